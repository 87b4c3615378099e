"""The neuron basis and the principal-component basis of a sampled matrix.

Both are orthonormal bases of the layer's d-dimensional activation space,
their columns ordered by the variance of the sample ``A`` (n x d) along them:

- ``neuron``: the standard basis, neurons ordered by their own variance;
- ``pca``: the right singular vectors of the centred ``A``, ordered by
  singular value. Computed with ``numpy.linalg.svd`` (LAPACK's divide and
  conquer, exact, every component at once): the ablation needs the whole
  orthonormal basis, not a truncated fit, and scikit-learn's ``PCA`` with the
  exact solver is the same SVD behind a wrapper. Signs are made
  deterministic as scikit-learn's ``svd_flip`` does: each component's
  largest-magnitude loading is positive.

Explained variance of the top k vectors = the sample variance along them
over the total (the trace of the covariance), for both bases.
"""

import dataclasses

import numpy as np

from inception_tools.atomic import atomic_path
from inception_tools.errors import UserError

BASES = ("pca", "neuron")


@dataclasses.dataclass
class Basis:
    kind: str  # "pca" or "neuron"
    vectors: np.ndarray  # float64 [d, P]: orthonormal columns, highest variance first
    variances: np.ndarray  # float64 [P]: sample variance along each column
    total_variance: float  # trace of the sample covariance
    center: np.ndarray  # float64 [d]: the sample mean

    @property
    def dim(self):
        return self.vectors.shape[0]

    def __len__(self):
        return self.vectors.shape[1]

    def explained(self):
        """Cumulative explained-variance ratio of the top 1..P vectors."""
        return np.cumsum(self.variances) / self.total_variance


def check_basis(kind):
    if kind not in BASES:
        raise UserError(f"unknown basis {kind!r}; use one of {', '.join(BASES)}")
    return kind


def check_components(components, n_images, dim):
    """The number of principal components to keep (default: all ``dim``); UserError if impossible."""
    components = dim if components is None else components
    if components < 1 or components > dim:
        raise UserError(f"{components} components asked, but the layer has d = {dim} dimensions")
    if components > n_images - 1:
        raise UserError(f"too few images: {n_images} sampled vectors give at most {n_images - 1} principal "
                        f"components, {components} asked (ask for fewer components or give more images)")
    return components


def pca_basis(A, components=None):
    """Principal components of ``A`` (n x d), the top ``components`` (default all d)."""
    A = np.asarray(A, np.float64)
    n, d = A.shape
    components = check_components(components, n, d)
    center = A.mean(axis=0)
    _, s, vt = np.linalg.svd(A - center, full_matrices=False)
    vectors = vt[:components].T
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(components)])
    variances = s ** 2 / (n - 1)
    return Basis("pca", vectors * signs, variances[:components], float(variances.sum()), center)


def neuron_basis(A):
    """The standard basis of ``A``'s columns, ordered by their variance (ties by index)."""
    A = np.asarray(A, np.float64)
    n, d = A.shape
    if n < 2:
        raise UserError(f"too few images: {n} sampled vector(s) have no variance")
    variances = A.var(axis=0, ddof=1)
    order = np.lexsort((np.arange(d), -variances))
    return Basis("neuron", np.eye(d)[:, order], variances[order], float(variances.sum()), A.mean(axis=0))


def make_basis(kind, A, components=None):
    """``pca_basis`` or ``neuron_basis`` by name."""
    return pca_basis(A, components) if check_basis(kind) == "pca" else neuron_basis(A)


def k_for(explained, fraction):
    """Smallest k whose top-k vectors explain at least ``fraction`` of the variance (None if none)."""
    hits = np.flatnonzero(explained >= fraction - 1e-12)
    return int(hits[0]) + 1 if len(hits) else None


def explained_rows(pcs, neurons):
    """Rows ``(k, pcs, neurons)`` for k = 1..d (PC ratios past the kept components are left empty)."""
    pc, nr = pcs.explained(), neurons.explained()
    return [(k, float(pc[k - 1]) if k <= len(pc) else "", float(nr[k - 1])) for k in range(1, len(nr) + 1)]


def save_basis(basis, path, **extra):
    """Write ``basis`` (and any extra arrays) to an .npz, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, kind=basis.kind, vectors=basis.vectors, variances=basis.variances,
                     total_variance=basis.total_variance, center=basis.center, **extra)
    return path


def load_basis(path):
    """The :class:`Basis` saved by :func:`save_basis`."""
    try:
        with np.load(path) as f:
            return Basis(str(f["kind"]), f["vectors"], f["variances"], float(f["total_variance"]), f["center"])
    except (OSError, KeyError, ValueError) as e:
        raise UserError(f"{path}: not a saved basis ({e})") from None
