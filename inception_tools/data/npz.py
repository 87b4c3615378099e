"""Read a downsampled-ImageNet ``.npz`` (Chrabaszcz et al. 2017, "Imagenet64x64").

The file holds ``data``: uint8 [N, 12288], each row one 64 x 64 RGB image in
CHW order (all red values row by row, then green, then blue), and ``labels``:
the 1-based ILSVRC2012 devkit class ids. For InceptionV1 the devkit id is the
output index itself (1 = n02119789 kit fox; index 0 is "dummy"), so a label
is used as the output index after checking that it lies in
1..num_classes-1 and is a real class (not "dummy" nor "unused-<i>").

The rows are kept as the raw uint8 array [N, 64, 64, 3] (a transposed view of
the file's data, 12288 bytes an image) and, in the default "64-upscale"
mode, upscaled to the model's size on each ``Dataset.images`` call.
"""

import zipfile

import numpy as np

from inception_tools.data import resize as resizing
from inception_tools.data.dataset import Dataset, is_placeholder
from inception_tools.errors import UserError

SIDE = 64
REQUIRED_KEYS = ("data", "labels")


def read_arrays(path):
    """(data, labels) from the ``.npz`` at ``path``; UserError for anything else."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UserError(f"cannot read {path} as an .npz file: {e}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise UserError(f"{path} is a single .npy array, not an .npz with 'data' and 'labels'")
    with npz:
        missing = [key for key in REQUIRED_KEYS if key not in npz.files]
        if missing:
            raise UserError(f"{path} has no {' or '.join(missing)} array (found: {', '.join(npz.files) or 'none'})")
        try:  # arrays are read here; an object array (pickled Python objects) is refused, never unpickled
            return npz["data"], npz["labels"]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise UserError(f"cannot read the arrays of {path}: {e}") from None


def images_hwc(data, path):
    """uint8 [N, 64, 64, 3] view of the CHW rows of ``data``."""
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise UserError(
            f"{path}: 'data' must be uint8 [N, {3 * SIDE * SIDE}] (3x{SIDE}x{SIDE} CHW rows), "
            f"got {data.dtype} {list(data.shape)}"
        )
    return data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)


def check_labels(labels, model, path):
    """The labels as int64 output indices; UserError naming the first bad one."""
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{path}: 'labels' must be a 1-D integer array, got {labels.dtype} {list(labels.shape)}")
    labels = labels.astype(np.int64)
    outside = np.flatnonzero((labels < 1) | (labels >= model.num_classes))
    if outside.size:
        position = outside[0]
        raise UserError(
            f"{path}: label {labels[position]} (image {position}) is outside the classes "
            f"1..{model.num_classes - 1} of model {model.name}"
        )
    placeholders = [i for i, label_id in enumerate(model.label_ids) if is_placeholder(label_id)]
    on_placeholder = np.flatnonzero(np.isin(labels, placeholders))
    if on_placeholder.size:
        position = on_placeholder[0]
        raise UserError(
            f"{path}: label {labels[position]} (image {position}) is the placeholder class "
            f"{model.label_ids[labels[position]]!r} of model {model.name}"
        )
    return labels


def load_npz(path, model, mode, limit=None):
    """A :class:`Dataset` of the first ``limit`` images of the ``.npz`` at ``path``."""
    data, labels = read_arrays(path)
    if len(data) != len(labels):
        raise UserError(f"{path}: {len(data)} images but {len(labels)} labels")
    images = images_hwc(data[:limit], path)
    labels = check_labels(labels[:limit], model, path)
    return Dataset(
        resizing.prepare_array(images, mode, model.image_shape),
        labels,
        [f"npz:{i}" for i in range(len(images))],
        resize=mode,
        image_shape=model.image_shape,
        source=path,
    )
