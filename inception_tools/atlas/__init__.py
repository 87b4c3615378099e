"""Activation atlases (Carter et al., Distill 2019): many activation vectors laid out on a plane, each cell rendered.

:mod:`~inception_tools.atlas.sample` collects spatial activation vectors,
:mod:`~inception_tools.atlas.embed` lays them out with UMAP,
:mod:`~inception_tools.atlas.grid` bins them and averages each cell,
:mod:`~inception_tools.atlas.render` renders each cell's average,
:mod:`~inception_tools.atlas.classes` and :mod:`~inception_tools.atlas.patches` label the cells,
:mod:`~inception_tools.atlas.canvas` and :mod:`~inception_tools.atlas.page` draw them;
:mod:`~inception_tools.atlas.stage` is the stage's contract (config, result, compute, write, read).
"""
