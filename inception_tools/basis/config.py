"""The settings of a basis study: one frozen dataclass, checked when it is made."""

import dataclasses
from typing import Optional

from inception_tools.activations.pca import check_basis
from inception_tools.errors import UserError
from inception_tools.guards import check_seed
from inception_tools.tables import measure


@dataclasses.dataclass(frozen=True)
class BasisConfig:
    """Neuron basis vs principal components of a layer (:func:`inception_tools.basis.stage.compute`).

    Attributes:
        seed: seed of the one random position per image (and of the renders).
        components: principal components kept (None: all d).
        top_k: ablation: top-k accuracy besides top-1 (None: the model's).
        ablate: measure the ablation curves; on ``ablation_images`` images evenly spaced (None: all),
            at ``ks`` (None: a log grid with ``points_per_octave`` values per doubling), ``ablation_batch``
            variants at a time.
        batch_size: images per batch of the sampling pass.
        visual_basis: ``pca`` or ``neuron``: the basis of the strips and renders.
        vectors: 0-based columns of ``visual_basis`` for strips (and with ``render``, Lucid renders of
            ``steps`` steps at ``size`` pixels).
        strip_points, strip_k: points along a strip's direction and nearest patches per point.
        importance, score: an importance CSV of principal components that ranks the gallery by ``score``.
    """

    seed: int = 0
    components: Optional[int] = None
    top_k: Optional[int] = None
    ablation_images: Optional[int] = None
    points_per_octave: int = 1
    batch_size: int = 32
    ablation_batch: int = 16
    ablate: bool = True
    visual_basis: str = "pca"
    vectors: tuple = ()
    strip_points: int = 8
    strip_k: int = 4
    render: bool = False
    steps: int = 256
    size: Optional[int] = None
    ks: Optional[tuple] = None
    importance: Optional[str] = None
    score: str = "importance"

    def __post_init__(self):
        object.__setattr__(self, "vectors", tuple(int(v) for v in self.vectors))
        if self.ks is not None:
            object.__setattr__(self, "ks", tuple(int(k) for k in self.ks))
        check_basis(self.visual_basis)
        check_seed(self.seed)
        measure(self.score)
        if self.importance and self.visual_basis != "pca":
            raise UserError("an importance table of principal components ranks the pca basis only: use it with "
                            "the pca basis")
        for name in ("points_per_octave", "batch_size", "ablation_batch", "strip_points", "steps"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("top_k", "ablation_images", "components", "size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
