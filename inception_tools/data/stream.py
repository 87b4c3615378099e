"""A photo folder's pixels decoded when they are read: any number of photos in bounded memory.

:class:`StreamedPixels` stands where a :class:`~inception_tools.data.dataset.Dataset`
keeps its uint8 array [N, h, w, 3] but holds only file names: ``pixels[a:b]``
or ``pixels[indices]`` decodes those files on the
:class:`~inception_tools.data.decoding.Decoder`'s threads, and
:meth:`StreamedPixels.prefetch` decodes the batch that comes next on a
background thread while the network runs on this one. Memory: two batches of
pixels, whatever the number of photos.

Which files are images is found before the work starts from their headers
alone (:func:`probe`: format and size, no pixels). A file whose header reads
but whose pixels do not (a truncated JPEG) is found only when its batch is
decoded: a one-line error then, naming it, while a cached or in-memory load
skips such files up front.
"""

import concurrent.futures

import numpy as np
from PIL import Image

from inception_tools.data import resize as resizing
from inception_tools.data.decoding import DECODE_ERRORS
from inception_tools.errors import UserError


def header_size(path):
    """``(width, height)`` from the image file's header, or None when it is no readable image."""
    try:
        with Image.open(path) as image:
            return image.size
    except DECODE_ERRORS:
        return None


def probe(decoder, paths):
    """The header size (or None) of each of ``paths`` (relative to the decoder's folder), in order."""
    return decoder.map(lambda path: header_size(decoder.folder / path), paths)


class StreamedPixels:
    """uint8 [N, h, w, 3] of ``paths`` (relative to the decoder's folder), decoded on demand."""

    def __init__(self, decoder, paths):
        self.decoder = decoder
        self.paths = list(paths)
        self.dtype = np.dtype(np.uint8)
        self.shape = (len(self.paths), *resizing.stored_size(decoder.mode, decoder.image_shape), 3)
        self._ahead = None  # (indices as bytes, future) of the prefetched batch
        self._prefetcher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="prefetch")

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self[[int(key)]][0]
        indices = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key, np.int64)
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == indices.tobytes():
            return ahead[1].result()
        return self._decode(indices)

    def prefetch(self, indices):
        """Start decoding the images at ``indices`` (the batch that is read next) in the background."""
        indices = np.asarray(indices, np.int64)
        if len(indices):
            self._ahead = (indices.tobytes(), self._prefetcher.submit(self._decode, indices))

    def _decode(self, indices):
        out = np.empty((len(indices), *self.shape[1:]), np.uint8)
        decoded = self.decoder.decode([self.paths[i] for i in indices])
        for k, (pixels, _) in enumerate(decoded):
            if pixels is None:
                raise UserError(f"cannot decode image {self.decoder.folder / self.paths[indices[k]]} (its header "
                                "reads, its pixels do not): remove it, or read the folder through a cache or into "
                                "memory, which skip such files before the work starts")
            out[k] = pixels
        return out
