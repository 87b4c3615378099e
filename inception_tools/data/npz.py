"""Read a downsampled-ImageNet ``.npz`` (Chrabaszcz et al. 2017, "Imagenet64x64").

The file holds ``data``: uint8 [N, 12288], each row one 64 x 64 RGB image in
CHW order (all red values row by row, then green, then blue), and ``labels``:
the 1-based ILSVRC2012 devkit class ids. For InceptionV1 the devkit id is the
output index itself (1 = n02119789 kit fox; index 0 is "dummy"), so a label
is used as the output index after checking that it lies in
1..num_classes-1 and is a real class (not "dummy" nor "unused-<i>").

Only the rows a limit keeps are read (see :func:`read_arrays`); they are kept as the raw uint8 array [N, 64, 64, 3] (a transposed view of
the file's data, 12288 bytes an image) and, in the default "64-upscale"
mode, upscaled to the model's size on each ``Dataset.images`` call.
"""

import zipfile

import numpy as np

from inception_tools.data import resize as resizing
from inception_tools.data.dataset import Dataset, is_placeholder, limited
from inception_tools.errors import UserError

SIDE = 64
REQUIRED_KEYS = ("data", "labels")


def read_arrays(path, limit=None):
    """``(data, labels, keep)`` from the ``.npz`` at ``path``: all labels, and the rows ``keep`` (the
    positions ``limit`` keeps, see :func:`~inception_tools.data.dataset.limited`) of ``data`` read one by
    one from the archive member, so a limit of 4 reads 4 rows of a file of 100,000 images (a compressed
    member is streamed, never held whole). UserError for anything that is not such an .npz."""
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
            labels = npz["labels"]
            with npz.zip.open("data.npy") as member:
                shape, dtype = _header(member, path)
                labels = check_labels(labels, None, path, shape_only=True)
                if shape and shape[0] != len(labels):
                    raise UserError(f"{path}: {shape[0]} images but {len(labels)} labels")
                check_rows(shape, dtype, path)
                keep = limited(labels, limit)
                data = _rows(member, keep, shape[1], path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise UserError(f"cannot read the arrays of {path}: {e}") from None
    return data, labels, keep


def _header(member, path):
    """(shape, dtype) of the .npy stream ``member``, positioned at its first byte of data."""
    version = np.lib.format.read_magic(member)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = read_header(member)
    if dtype.hasobject:
        raise ValueError("Object arrays cannot be loaded when allow_pickle=False")
    if fortran and len(shape) > 1:
        raise UserError(f"{path}: 'data' is stored in Fortran order; save it in C order (numpy's default)")
    return shape, dtype


def _rows(member, keep, width, path):
    """uint8 [len(keep), width]: rows ``keep`` (sorted) of the C-order array whose data starts here."""
    data = np.empty((len(keep), width), np.uint8)
    start = member.tell()
    position = 0
    for out, row in enumerate(keep.tolist()):
        if row != position:
            member.seek(start + row * width)
        chunk = member.read(width)
        if len(chunk) != width:
            raise UserError(f"{path}: 'data' ends before image {row} (the file is truncated)")
        data[out] = np.frombuffer(chunk, np.uint8)
        position = row + 1
    return data


def check_rows(shape, dtype, path):
    """UserError unless the 'data' array is uint8 [N, 12288]."""
    if dtype != np.uint8 or len(shape) != 2 or shape[1] != 3 * SIDE * SIDE:
        raise UserError(
            f"{path}: 'data' must be uint8 [N, {3 * SIDE * SIDE}] (3x{SIDE}x{SIDE} CHW rows), "
            f"got {dtype} {list(shape)}"
        )


def images_hwc(data, path):
    """uint8 [N, 64, 64, 3] view of the CHW rows of ``data``."""
    check_rows(data.shape, data.dtype, path)
    return data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)


def check_labels(labels, model, path, shape_only=False):
    """The labels as int64 output indices; UserError naming the first bad one.

    A label is an output index of a real class of ``model``: 1..1000 for InceptionV1 (0 is its
    "dummy"), 0..9 for the embedded digits (0 is the digit 0). ``shape_only``: check the array only.
    """
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserError(f"{path}: 'labels' must be a 1-D integer array, got {labels.dtype} {list(labels.shape)}")
    labels = labels.astype(np.int64)
    if shape_only:
        return labels
    real = [i for i, label_id in enumerate(model.label_ids) if not is_placeholder(label_id)]
    outside = np.flatnonzero((labels < 0) | (labels >= model.num_classes))
    if outside.size:
        position = outside[0]
        raise UserError(
            f"{path}: label {labels[position]} (image {position}) is outside the classes "
            f"{min(real)}..{max(real)} of model {model.name}"
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
    """A :class:`Dataset` of the images of the ``.npz`` at ``path`` (``limit``: a class-balanced subset)."""
    data, labels, keep = read_arrays(path, limit)
    images = images_hwc(data, path)
    labels = check_labels(labels[keep], model, path)
    return Dataset(
        resizing.prepare_array(images, mode, model.image_shape),
        labels,
        [f"npz:{i}" for i in keep.tolist()],
        resize=mode,
        image_shape=model.image_shape,
        source=path,
    )
