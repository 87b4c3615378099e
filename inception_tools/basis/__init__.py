"""Neuron basis vs principal-component basis of a layer (Dey et al., TMLR).

The sample and the two bases come from :mod:`inception_tools.activations`;
here ``steps`` makes the sample, bases and curves in memory, ``ablation`` ablates
sets of basis vectors through the surgery, ``strip`` and ``render`` visualize one
direction, ``figures`` draws the curves, ``page`` the gallery, ``files`` writes and
reads a study folder, ``result`` is what a study gives back, ``legacy`` takes over
folders made before the study runner, and ``stage`` (``compute``, ``STAGE``,
``basis_study``) puts it on the runner.
"""
