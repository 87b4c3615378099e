"""Analysis of the blind survey: are the most important features more interpretable?

``study.analyze`` reads the importance CSV and the survey answers, computes each feature's
interpretability I (``interpretability``), compares the top and middle groups
(``statistics``), draws the figures (``figures``) and writes ``report.md`` and
``summary.json`` (``report``). The submodules are imported directly; this package
imports nothing so that ``inception_tools.plots`` can share ``tables`` without a cycle.
"""
