"""Analysis of the blind survey: are the most important features more interpretable?

``study.analyze`` reads the importance CSV and the survey answers, computes each feature's
interpretability I (``interpretability``), compares the top and middle groups
(``statistics``), draws the figures (``figures``) and writes ``report.md`` and
``summary.json`` (``report``); ``answers`` reads the answer CSVs (the importance and
groups tables are read by :mod:`inception_tools.tables`). The submodules are imported
directly; this package imports nothing.
"""
