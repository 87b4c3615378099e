"""Tuning curves on synthetic stimuli (Cammarata et al., "Curve Detectors", Distill 2020).

``stimuli`` draws the seeded parametric stimuli, ``responses`` runs the layer
on them (and on natural images for each channel's scale), ``stats`` reads the
tuning curves with bootstrap intervals, ``figures`` plots them and ``stage``
holds the stage's config, result, compute, write and read.
"""
