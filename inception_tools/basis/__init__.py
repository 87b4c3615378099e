"""Neuron basis vs principal-component basis of a layer (Dey et al., TMLR).

``sample`` draws one activation vector per image, ``pca`` builds the two
bases and their explained variance, ``ablation`` ablates sets of basis
vectors through the surgery, ``strip`` and ``render`` visualize one
direction, ``figures`` draws the curves and ``stage`` runs it all.
"""
