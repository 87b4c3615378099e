"""The embedded MLP: Teague's MNIST multilayer perceptron, 784-128-64-32-10.

:data:`MLP` declares it with :mod:`inception_tools.models.builder`: the input
is the same ``[N, 28, 28, 3]`` image as the embedded convnet's (grayscale
replicated to RGB), in the value range (0, 1), so the digits loaders and
Lucid's ``create_input`` work unchanged (a [0, 1] image enters as it is);
``flatten`` keeps the first colour channel and reshapes it to 784 pixels.
Then ``dense1`` (128), ``dense2`` (64), ``dense3`` (32), each
``<d>_pre_relu/matmul`` -> ``<d>_pre_relu`` -> ``<d>`` (ReLU), and
``softmax2`` (10 classes, "0".."9"). A unit of a dense layer plays the part
of a channel everywhere in the toolkit.

``scripts/train_mlp.py`` trains it (with dropout, which the frozen graph
leaves out) on the bundled MNIST digits and commits the frozen graph, labels
and metrics under ``inception_tools/models/data/embedded-mlp/``. :class:`EmbeddedMLP` is its Lucid
model class (``--model embedded-mlp``).
"""

from pathlib import Path

from inception_tools.lucid_compat import import_lucid
from inception_tools.models.builder import Dense, Flatten, Softmax, layer_depths

import_lucid()

from lucid.modelzoo.vision_base import Model, _layers_from_list_of_dicts  # noqa: E402

MODEL_DIR = Path(__file__).resolve().parent / "data" / "embedded-mlp"
MODEL_PATH = MODEL_DIR / "embedded-mlp.pb"
LABELS_PATH = MODEL_DIR / "labels.txt"
METRICS_PATH = MODEL_DIR / "metrics.json"

IMAGE_SHAPE = (28, 28, 3)
VALUE_RANGE = (0, 1)
LABELS = [str(d) for d in range(10)]

MLP = (
    Flatten("flatten"),
    Dense("dense1", 128),
    Dense("dense2", 64),
    Dense("dense3", 32),
    Softmax("softmax2", depth=len(LABELS)),
)


class EmbeddedMLP(Model):
    """Lucid model of the committed ``models/data/embedded-mlp/embedded-mlp.pb``."""

    model_path = str(MODEL_PATH)
    labels_path = str(LABELS_PATH)
    image_shape = list(IMAGE_SHAPE)
    image_value_range = VALUE_RANGE
    input_name = "input"


EmbeddedMLP.layers = _layers_from_list_of_dicts(
    EmbeddedMLP(), [{"name": name, "depth": depth, "tags": ["dense"]} for name, depth in layer_depths(MLP).items()])
