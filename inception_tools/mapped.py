"""An ``.npy`` file read and written a block of rows at a time, mapped only while it is used.

A memory map that stays open keeps every page it has touched counted in the
process's resident memory until the kernel needs it back, so a scan that walks
a large per-image file with one map grows with the number of images. A
:class:`MappedRows` maps the file for each access and lets it go: memory
holds the rows asked for, the pages stay in the system's file cache.
"""

import mmap

import numpy as np


class MappedRows:
    """An array in a file: ``rows[key]`` reads (a copy), ``rows.write(start, values)`` writes rows.

    ``MappedRows(path)`` is the array of the ``.npy`` file at ``path``; with ``dtype`` and ``shape``, the
    raw array in the file from byte ``offset``.
    """

    def __init__(self, path, dtype=None, shape=None, offset=0):
        self.path = path
        if shape is None:
            mapped = np.load(path, mmap_mode="r")
            dtype, shape, offset = mapped.dtype, mapped.shape, mapped.offset
            del mapped
        self.dtype, self.shape, self.offset = np.dtype(dtype), tuple(shape), offset

    @classmethod
    def create(cls, path, dtype, shape):
        """A new zero-filled ``.npy`` file of ``shape``."""
        np.lib.format.open_memmap(path, "w+", dtype, shape).flush()
        return cls(path)

    def __len__(self):
        return self.shape[0]

    def _mapped(self, mode):
        return np.memmap(self.path, self.dtype, mode, self.offset, self.shape)

    def __getitem__(self, key):
        mapped = self._mapped("r")
        try:
            return np.array(mapped[key])
        finally:
            del mapped

    def __array__(self, dtype=None, copy=None):
        return self[:] if dtype is None else self[:].astype(dtype)

    def write(self, start, values):
        """Store ``values`` as rows ``start:start + len(values)``."""
        mapped = self._mapped("r+")
        try:
            mapped[start:start + len(values)] = values
            mapped.flush()
        finally:
            del mapped


def release_pages(array):
    """Let go of the pages an open shared memory map (``np.memmap`` or a view of one) holds in this process;
    its contents stay in the file (call after ``flush``). Anything else is left as it is."""
    while array is not None and not isinstance(array, np.memmap):
        array = getattr(array, "base", None)
    mapping = getattr(array, "_mmap", None)
    if mapping is not None and getattr(array, "mode", "c") != "c" and hasattr(mapping, "madvise") and hasattr(mmap, "MADV_DONTNEED"):
        mapping.madvise(mmap.MADV_DONTNEED)
