"""One activation vector per image, and the layer's mean, in one pass.

Following Dey et al.: for every image one spatial position is drawn
uniformly at random (seeded; a fully connected layer has one position) and
the activation vector there is kept, giving a matrix ``A`` (n x d). Two
tensors are sampled at the same positions:

- ``layer``: the layer's output, the tensor the surgery imputes (post-ReLU
  for InceptionV1's mixed layers). PCA, ablation, strips and renders of the
  toolkit's bases use this one, so that a basis vector ablated is the one
  whose variance was measured.
- ``pre_relu``: ``<layer>_pre_relu`` where the model has it (the paper's
  choice); its explained variance is reported beside the other.

The same pass sums the layer over every image and position: its dataset
mean, the value ablation projects to (as the importance scan's mean ablation).
"""

import dataclasses

import numpy as np

from inception_tools.errors import UserError


@dataclasses.dataclass
class Sample:
    layer: np.ndarray  # float32 [n, d]: the layer's output at one random position per image
    pre_relu: np.ndarray | None  # float32 [n, d] at the same positions, or None without a pre-ReLU tensor
    positions: np.ndarray  # int64 [n, 2]: (y, x) of each image's position
    mean: np.ndarray  # float64 [d]: the layer's mean over every image and position
    seed: int


def pre_relu_tensor(net):
    """``<layer>_pre_relu`` of ``net``'s import, or None when the model has none."""
    try:
        return net.T(net.layer + "_pre_relu")
    except (KeyError, ValueError):
        return None


def _as_positions(acts):
    """[B, H, W, d] (or [B, d]) -> [B, H, W, d]."""
    return acts if acts.ndim == 4 else acts[:, None, None, :]


def sample_activations(net, dataset, seed=0, batch_size=32):
    """Sample ``A`` (and its pre-ReLU twin) from ``dataset``; see the module docstring."""
    pre = pre_relu_tensor(net)
    fetches = [net.activations] + ([pre] if pre is not None else [])
    rng = np.random.default_rng(seed)
    rows, pre_rows, positions = [], [], []
    total, count = None, 0
    for _, images in dataset.batches(batch_size, desc=f"sample {net.layer}"):
        out = [_as_positions(a) for a in net.run(fetches, images)]
        acts = out[0]
        _, h, w, _ = acts.shape
        ys, xs = rng.integers(0, h, len(images)), rng.integers(0, w, len(images))
        index = np.arange(len(images))
        rows.append(acts[index, ys, xs])
        if pre is not None:
            if out[1].shape != acts.shape:
                raise UserError(f"{net.layer}_pre_relu has shape {out[1].shape[1:]}, the layer {acts.shape[1:]}")
            pre_rows.append(out[1][index, ys, xs])
        positions.append(np.stack([ys, xs], axis=1))
        batch_sum = acts.astype(np.float64).sum(axis=(0, 1, 2))
        total = batch_sum if total is None else total + batch_sum
        count += acts.shape[0] * h * w
    return Sample(np.concatenate(rows).astype(np.float32),
                  np.concatenate(pre_rows).astype(np.float32) if pre is not None else None,
                  np.concatenate(positions).astype(np.int64), total / count, seed)
