"""Neuron basis vs principal-component basis of a layer (Dey et al., TMLR).

The sample and the two bases come from :mod:`inception_tools.activations`;
here ``ablation`` ablates sets of basis vectors through the surgery, ``strip``
and ``render`` visualize one direction, ``figures`` draws the curves and
``stage`` runs it all.
"""
