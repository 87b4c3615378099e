"""Spatial activation vectors of one or more layers: ``per_image`` random positions of every image.

The paper takes one random position per image of a million images. With
fewer images, several positions per image give more vectors: each image
contributes ``per_image`` distinct positions of each layer's [H, W] grid,
drawn without replacement by a generator seeded with ``(seed, layer index,
image row)``, so an image's positions depend only on the settings and not on
the batch it came in (a resumed pass draws the same ones). All layers are
read in one pass over the dataset; the vectors are the layer's output (for
InceptionV1's mixed layers the post-ReLU concatenation, the tensor the
renders optimise), float32. The pass saves its progress every
``CHECKPOINT_EVERY`` batches.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from inception_tools import progress
from inception_tools.errors import UserError

tf1 = tf.compat.v1
CHECKPOINT_EVERY = 8  # batches


@dataclasses.dataclass
class Vectors:
    """The sampled vectors of one layer."""

    vectors: np.ndarray  # float32 [n, d]
    rows: np.ndarray  # int64 [n]: the dataset row of each vector's image
    positions: np.ndarray  # int64 [n, 2]: (y, x) in the layer's grid
    shape: tuple  # (H, W) of the layer


def positions_of(seed, layer_index, row, height, width, per_image):
    """int64 [per_image, 2]: the (y, x) drawn for image ``row`` (see the module docstring)."""
    rng = np.random.default_rng([seed, layer_index, row])
    flat = rng.choice(height * width, size=per_image, replace=False)
    return np.stack([flat // width, flat % width], axis=1).astype(np.int64)


class LayerReader:
    """Activations [n, H, W, d] of several layers for [0, 1] images, one ``session.run`` per batch."""

    def __init__(self, model, layers):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.images, T = model.import_graph(scope="import")
            self.tensors = [T(layer) for layer in layers]
        self.session = tf1.Session(graph=self.graph)

    def shapes(self, layers, image):
        """(H, W) of each of ``layers`` (the names of the tensors), read off ``image`` [1, H, W, 3]."""
        shapes = []
        for layer, acts in zip(layers, self(image)):
            if acts.ndim != 4:
                raise UserError(f"{layer} is not a spatial layer (its activations are {acts.ndim}-D)")
            shapes.append(acts.shape[1:3])
        return shapes

    def __call__(self, images):
        return self.session.run(self.tensors, {self.images: images})

    def close(self):
        self.session.close()


def check_per_image(layers, shapes, per_image):
    """UserError unless every layer has at least ``per_image`` positions."""
    for layer, (h, w) in zip(layers, shapes):
        if per_image > h * w:
            raise UserError(f"per_image = {per_image} positions, but {layer} has only {h}x{w} = {h * w}")


def sample_vectors(model, dataset, layers, per_image=1, seed=0, batch_size=32, checkpoint=None):
    """Sample ``per_image`` vectors per image of each of ``layers``.

    Args:
        model: the model (``Model``); every layer must be a spatial [N, H, W, d] tensor.
        dataset: the images.
        layers: layer names.
        per_image: positions per image and layer (distinct).
        seed: seed of the positions.
        batch_size: images per run.
        checkpoint: a ``runner.Checkpoint`` (group ``sample``), or None.

    Returns:
        list of :class:`Vectors`, one per layer, in the dataset's order.
    """
    reader = LayerReader(model, layers)
    try:
        shapes = reader.shapes(layers, dataset.images(0, 1))
        check_per_image(layers, shapes, per_image)
        saved = checkpoint.load("sample") if checkpoint is not None else None
        done = int(saved["next"]) if saved is not None else 0
        parts = [[saved[f"vectors{i}"]] if saved is not None else [] for i in range(len(layers))]
        with progress.bar(total=len(dataset), initial=done, desc="sample", unit="img") as bar:
            for batch, start in enumerate(range(done, len(dataset), batch_size)):
                images = dataset.images(start, start + batch_size)
                for i, acts in enumerate(reader(images)):
                    h, w = shapes[i]
                    pos = [positions_of(seed, i, start + j, h, w, per_image) for j in range(len(images))]
                    parts[i].append(np.concatenate([acts[j, p[:, 0], p[:, 1]] for j, p in enumerate(pos)]))
                bar.update(len(images))
                done = start + len(images)
                if checkpoint is not None and ((batch + 1) % CHECKPOINT_EVERY == 0 or done == len(dataset)):
                    so_far = {f"vectors{i}": np.concatenate(p).astype(np.float32) for i, p in enumerate(parts)}
                    checkpoint.save("sample", next=np.int64(done), **so_far)
    finally:
        reader.close()
    rows = np.repeat(np.arange(len(dataset), dtype=np.int64), per_image)
    result = []
    for i, (h, w) in enumerate(shapes):
        positions = np.concatenate([positions_of(seed, i, r, h, w, per_image) for r in range(len(dataset))])
        result.append(Vectors(np.concatenate(parts[i]).astype(np.float32), rows, positions, (h, w)))
    return result
