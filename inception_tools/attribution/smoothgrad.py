"""SmoothGrad (Smilkov et al., 2017): the mean gradient over noisy copies of the image.

``(1/n) sum_i d f_c(x + e_i) / d x`` with ``e_i ~ N(0, sigma^2)`` per pixel,
``sigma = noise * (hi - lo)`` of the [0, 1] pixel range (so ``noise`` is the
paper's noise level; 0.15 is its usual setting). The noise comes from a
numpy generator seeded by ``seed`` and the image's index, so a map does not
depend on the batch it was computed in.
"""

from __future__ import annotations

import numpy as np


def attribute(graph, inputs: np.ndarray, target: np.ndarray, samples: int = 8, noise: float = 0.15,
              seed: int = 0, batch_size: int = 16, first_index: int = 0) -> np.ndarray:
    """SmoothGrad of each image.

    Args:
        graph: an :class:`~inception_tools.attribution.graph.AttributionGraph`.
        inputs: float32 [N, H, W, 3] in [0, 1].
        target: int [N].
        samples: noisy copies per image.
        noise: standard deviation as a fraction of the pixel range.
        seed: seed of the noise.
        batch_size: noisy copies per run.
        first_index: index of ``inputs[0]`` in its dataset (seeds each image's noise).

    Returns:
        float32 [N, H, W, 3].
    """
    out = np.zeros_like(inputs, dtype=np.float32)
    for i, (image, label) in enumerate(zip(inputs, target)):
        rng = np.random.default_rng([seed, first_index + i])
        noisy = image[None] + rng.normal(0.0, noise, (samples,) + image.shape).astype(np.float32)
        for start in range(0, samples, batch_size):
            chunk = noisy[start:start + batch_size]
            out[i] += graph.run(graph.input_gradient, chunk, np.full(len(chunk), label)).sum(axis=0)
        out[i] /= samples
    return out
