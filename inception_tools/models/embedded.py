"""The embedded default model: a small Inception-style digit classifier.

:data:`EMBEDDED` declares it with :mod:`inception_tools.models.builder`, so it
has InceptionV1's node names on a smaller scale: ``conv2d0`` (5x5, 48
channels), ``maxpool0``, ``mixed3a`` (96 channels, 14x14), ``maxpool4``,
``mixed4a`` (80 channels, 7x7), ``avgpool0``, ``softmax2`` (10 classes,
"0".."9"). Input 28x28 RGB in the value range (-1, 1): a [0, 1] image ``x``
enters as ``2x - 1``, as Lucid's ``create_input`` produces; feeding [0, 1] or
[0, 255] pixels straight into ``input`` drops test accuracy from 98% to ~58%,
so a wrong pixel scaling is detectable.

``scripts/train_embedded.py`` trains it on the bundled MNIST digits
(:mod:`inception_tools.data.digits`) and commits the frozen graph, labels and
metrics under ``inception_tools/models/data/embedded/``, package data that
every install carries. :class:`EmbeddedInception` is its Lucid model
class; like Lucid's InceptionV1 it adds ``<mixed>_pre_relu`` at import, using
Lucid's own ``_populate_inception_bottlenecks``.
"""

from pathlib import Path

from inception_tools.lucid_compat import import_lucid
from inception_tools.models.builder import AvgPool, Conv, MaxPool, Mixed, Softmax, layer_depths

import_lucid()

from lucid.modelzoo.other_models.InceptionV1 import _populate_inception_bottlenecks  # noqa: E402
from lucid.modelzoo.vision_base import Model, _layers_from_list_of_dicts  # noqa: E402

MODEL_DIR = Path(__file__).resolve().parent / "data" / "embedded"
MODEL_PATH = MODEL_DIR / "embedded.pb"
LABELS_PATH = MODEL_DIR / "labels.txt"
METRICS_PATH = MODEL_DIR / "metrics.json"

IMAGE_SHAPE = (28, 28, 3)
VALUE_RANGE = (-1, 1)
LABELS = [str(d) for d in range(10)]

EMBEDDED = (
    Conv("conv2d0", kernel=5, depth=48),
    MaxPool("maxpool0"),
    Mixed("mixed3a", 24, 24, 48, 8, 12, 12),
    MaxPool("maxpool4"),
    Mixed("mixed4a", 24, 24, 32, 8, 8, 16),
    AvgPool("avgpool0", size=7),
    Softmax("softmax2", depth=len(LABELS)),
)


def lucid_layer_dicts(spec):
    """Lucid's layer description (name, depth, tags) of the layers in ``spec``."""
    tags = {layer.name: "dense" if isinstance(layer, Softmax) else "conv" for layer in spec}
    return [{"name": name, "depth": depth, "tags": [tags[name]]} for name, depth in layer_depths(spec).items()]


class EmbeddedInception(Model):
    """Lucid model of the committed ``models/data/embedded/embedded.pb``."""

    model_path = str(MODEL_PATH)
    labels_path = str(LABELS_PATH)
    image_shape = list(IMAGE_SHAPE)
    image_value_range = VALUE_RANGE
    input_name = "input"

    def post_import(self, scope):
        _populate_inception_bottlenecks(scope)


EmbeddedInception.layers = _layers_from_list_of_dicts(EmbeddedInception(), lucid_layer_dicts(EMBEDDED))
