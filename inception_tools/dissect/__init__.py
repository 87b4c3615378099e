"""Network dissection (Bau et al., CVPR 2017) with compositional explanations (Mu and Andreas, 2020).

Every channel of a layer is thresholded at its top quantile, its upsampled mask is
compared with the pixel masks of labelled concepts, and the channel is named by the
concept of highest intersection over union. :mod:`.stage` holds the stage (config,
result, compute, write, read); :func:`concepts_of` opens the concepts: Broden's 11
colour names of any photo folder (:mod:`.colors`) or a Broden-layout folder (:mod:`.broden`).
"""

from inception_tools.errors import UserError

COLORS = "colors"


def concepts_of(spec, model, dataset=None, limit=None):
    """The concept source named by ``spec``.

    Args:
        spec: ``"colors"`` (the colour names of ``dataset``'s pixels) or a Broden-layout folder.
        model: the model (its input size).
        dataset: the images for ``"colors"``; must be None for a Broden folder, which has its own.
        limit: keep the first ``limit`` images of a Broden folder.

    Returns:
        :class:`~.colors.ColorConcepts` or :class:`~.broden.BrodenConcepts`.
    """
    if spec == COLORS:
        if dataset is None:
            raise UserError("colour concepts need a dataset of photos")
        from inception_tools.dissect.colors import ColorConcepts

        return ColorConcepts(dataset)
    if dataset is not None:
        raise UserError("a Broden concept folder brings its own images: give no dataset with it")
    from inception_tools.dissect.broden import BrodenConcepts

    return BrodenConcepts(spec, model.image_shape, limit=limit)


def check_layer(model, layer):
    """Refuse, before any file is written, a layer the model lacks or one without a spatial map (a dense layer)."""
    from inception_tools.dissect.masks import LayerMasks

    model.depth(layer)
    LayerMasks(model, layer, 1).close()
