"""Building Blocks of Interpretability (Olah et al., Distill 2018) for one image.

- :mod:`.dictionary`: semantic dictionary (top channels per position);
- :mod:`.attribution`: attribution to classes by gradient x activation and by ablation;
- :mod:`.groups`: NMF neuron groups (Lucid's ChannelReducer);
- :mod:`.render_cache`: shared cache of feature-visualization thumbnails;
- :mod:`.build` and :mod:`.page`: the analysis of every layer and the static page.
"""
