"""A layer's activation vectors and their principal components, below the stages that use them.

``sample`` draws one activation vector per image (and the layer's mean) in one
pass; ``pca`` builds the neuron and principal-component bases of such a sample.
The basis study (:mod:`inception_tools.basis`) and direction importance
(:mod:`inception_tools.importance.directions`) both build on them.
"""
