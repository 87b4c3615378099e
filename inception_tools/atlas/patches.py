"""Each cell's nearest dataset patches: the sampled positions whose vectors lie nearest its average.

Among all the sampled vectors of the layer, the ``k`` nearest (Euclidean) to
a cell's average, at most one per image (its nearest position), so a cell
shows ``k`` different images; ties go to the lower vector index. Each is
shown as the receptive field of its position
(:mod:`inception_tools.receptive_field`, shifted inside the image), resized
to ``tile`` pixels.
"""

import numpy as np
from PIL import Image

from inception_tools.examples import crop_box
from inception_tools.receptive_field import layer_field


def nearest_vectors(vectors, rows, means, k):
    """int64 [m, k]: for each row of ``means``, indices of the ``k`` nearest ``vectors``, one per image."""
    vectors = np.asarray(vectors, np.float64)
    means = np.asarray(means, np.float64)
    d2 = (np.einsum("nd,nd->n", vectors, vectors)[None, :] - 2 * means @ vectors.T
          + np.einsum("md,md->m", means, means)[:, None])
    k = min(k, len(np.unique(rows)))
    found = np.zeros((len(means), k), np.int64)
    for i, row in enumerate(d2):
        order = np.lexsort((np.arange(len(row)), row))
        _, first = np.unique(rows[order], return_index=True)  # each image's nearest vector
        found[i] = order[np.sort(first)][:k]
    return found


def crop_patches(model, dataset, layer, rows, positions, tile=64):
    """uint8 [m, k, tile, tile, 3]: receptive-field crops of ``positions`` [m, k, 2] in images ``rows`` [m, k]."""
    h, w = model.image_shape[:2]
    fields = (layer_field(model.graph_def, layer, model.input_name, h, 1),
              layer_field(model.graph_def, layer, model.input_name, w, 2))
    out = np.zeros((*rows.shape, tile, tile, 3), np.uint8)
    cache = {}
    for index in np.ndindex(rows.shape):
        row = int(rows[index])
        if row not in cache:
            cache[row] = dataset.images(row, row + 1)[0]
        top, left, bottom, right = crop_box(*fields, int(positions[index][0]), int(positions[index][1]), h, w)
        crop = (np.clip(cache[row][top:bottom, left:right], 0, 1) * 255).round().astype(np.uint8)
        out[index] = np.asarray(Image.fromarray(crop).resize((tile, tile), Image.BILINEAR))
    return out
