"""A layer's responses to stimuli (centre and best position) and its natural-image scale.

Responses are the layer's output, the ReLU of ``<layer>_pre_relu`` (read by
:class:`inception_tools.examples.LayerReader`, pixels scaled once), for every
channel of the layer: at the centre position of the activation map
(``(h // 2, w // 2)``), with the stimuli centred on that unit's receptive-field
centre (:func:`unit_centre`; in InceptionV1 mixed3b the unit (14, 14) is
centred on pixel (119, 119), not the image centre 111.5), and the largest over
all positions (the best position).
The natural-image scale of a channel is the 99th percentile of its output over
natural images, at ``positions`` random positions per image (seeded by the seed and the image's row) (all
positions when the map has fewer). Both passes save their progress in chunks
through the stage's checkpoint, so a killed run resumes.
"""

import numpy as np

from inception_tools import progress
from inception_tools.examples import LayerReader
from inception_tools.receptive_field import layer_field
from inception_tools.tuning import stimuli

CHUNK = 64  # images per checkpoint group


def _chunks(total):
    return [(start, min(start + CHUNK, total)) for start in range(0, total, CHUNK)]


def unit_centre(model, layer):
    """``((row, column), (i, j))``: the input pixel the centre unit ``(i, j) = (h // 2, w // 2)`` of
    ``layer``'s map is centred on, and that unit."""
    rows, cols = (layer_field(model.graph_def, layer, model.input_name, model.image_shape[axis - 1], axis)
                  for axis in (1, 2))
    i, j = rows.length // 2, cols.length // 2
    return (rows.start + i * rows.jump, cols.start + j * cols.jump), (i, j)


def stimulus_responses(model, layer, fam, config, checkpoint):
    """``(centre, best)``: float32 [primary, secondary, replicates, channels] each."""
    shape = (len(fam.primary_values), len(fam.secondary_values), config.replicates)
    total = int(np.prod(shape))
    centre, best = [], []
    pixel, (i, j) = unit_centre(model, layer)
    reader = None
    try:
        for k, (start, stop) in enumerate(progress.iterate(_chunks(total), desc=f"stimuli {layer}", unit="chunk")):
            saved = checkpoint.load(f"stimuli_{k:04d}")
            if saved is None:
                reader = reader or LayerReader(model, layer)
                images = stimuli.stimuli(fam, model.image_shape, config.replicates, config.jitter, config.seed,
                                         start, stop, pixel)
                acts = np.maximum(_run(reader, images, config.batch_size), 0)
                saved = {"centre": acts[:, i, j], "best": acts.max(axis=(1, 2))}
                checkpoint.save(f"stimuli_{k:04d}", **saved)
            centre.append(saved["centre"])
            best.append(saved["best"])
    finally:
        if reader is not None:
            reader.close()
    return (np.concatenate(centre).reshape(shape + (-1,)).astype(np.float32),
            np.concatenate(best).reshape(shape + (-1,)).astype(np.float32))


def natural_percentile(model, layer, dataset, config, checkpoint, q=99.0):
    """float32 [channels]: the ``q``-th percentile of each channel's output over ``dataset``."""
    values = []
    reader = None
    try:
        for k, (start, stop) in enumerate(progress.iterate(_chunks(len(dataset)), desc=f"natural {layer}",
                                                           unit="chunk")):
            saved = checkpoint.load(f"natural_{k:04d}")
            if saved is None:
                reader = reader or LayerReader(model, layer)
                acts = np.maximum(_run(reader, dataset.images(start, stop), config.batch_size), 0)
                n, h, w, c = acts.shape
                flat = acts.reshape(n, h * w, c)
                count = min(config.positions, h * w)
                where = np.stack([np.random.default_rng([config.seed, i]).permutation(h * w)[:count]
                                  for i in range(start, stop)])
                saved = {"values": np.take_along_axis(flat, where[:, :, None], axis=1).reshape(-1, c)}
                checkpoint.save(f"natural_{k:04d}", **saved)
            values.append(saved["values"])
    finally:
        if reader is not None:
            reader.close()
    return np.percentile(np.concatenate(values), q, axis=0).astype(np.float32)


def _run(reader, images, batch_size):
    return np.concatenate([reader(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])
