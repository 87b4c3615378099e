"""The settings of one image's Building Blocks page: one frozen dataclass, checked when it is made."""

import dataclasses
from typing import Optional

from inception_tools.blocks.render_cache import RenderSettings
from inception_tools.errors import UserError

RESIZES = ("center-crop", "squash", "native")


@dataclasses.dataclass(frozen=True)
class BlocksConfig:
    """What :func:`inception_tools.blocks.stage.blocks_page` computes and shows.

    Attributes:
        layers: layer names (post-ReLU mixed layers).
        classes: output indices to attribute to; None: the ``n_classes`` top logits.
        top_n: channels per position in the semantic dictionary.
        n_groups: NMF groups.
        data, limit: dataset (and how many of its images) whose channel means are the ablation baseline;
            None: zero.
        resize: how the image reaches the model's input size (``center-crop``, ``squash``, ``native``).
        render: the thumbnails' render settings; ``per_call`` of them optimized together.
    """

    layers: tuple
    classes: Optional[tuple] = None
    n_classes: int = 3
    top_n: int = 4
    n_groups: int = 6
    data: Optional[str] = None
    limit: Optional[int] = None
    resize: str = "center-crop"
    render: RenderSettings = RenderSettings()
    per_call: int = 8

    def __post_init__(self):
        layers = (self.layers,) if isinstance(self.layers, str) else tuple(self.layers)
        object.__setattr__(self, "layers", layers)
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(int(c) for c in self.classes))
        if not self.layers:
            raise UserError("give at least one layer")
        if self.resize not in RESIZES:
            raise UserError(f"unknown resize {self.resize!r}; use one of {', '.join(RESIZES)}")
        for name in ("n_classes", "top_n", "n_groups", "per_call"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.data is None and self.limit is not None:
            raise UserError("a limit applies to the baseline dataset: give one")
        if self.limit is not None and self.limit < 1:
            raise UserError(f"limit must be at least 1, got {self.limit}")
        self.render.check()
