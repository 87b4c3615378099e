"""How a photo folder's pixels are read: kept in memory, streamed, or cached on disk.

A folder of photos can be larger than memory (the 50,000 ImageNet validation
photos take 7.5 GB as uint8 at 224 x 224). :class:`Reading` chooses where the
decoded pixels live while a command runs:

- ``memory``: every image decoded once at load time (fastest for small sets:
  later passes read memory);
- ``stream``: decoded on a pool of threads when a batch is read, the next batch
  decoded in the background while the network runs
  (:mod:`~inception_tools.data.stream`); memory holds two batches whatever the
  number of images, and every pass over the data decodes again;
- ``auto`` (the default): ``memory`` up to :data:`MEMORY_LIMIT` bytes of pixels,
  else ``stream``.

With ``cache`` (a folder), the decoded pixels are written once to a
memory-mapped file there, keyed by the folder's files and the resize
(:mod:`~inception_tools.data.cache`); a later command over the same folder
starts at once and reads its batches from that file. Pixels are the same
whichever way they are read, so results do not depend on it.
"""

import dataclasses
import os
from typing import Optional

from inception_tools.errors import UserError

STORES = ("auto", "memory", "stream")
MEMORY_LIMIT = 1 << 30  # bytes of decoded pixels that "auto" keeps in memory
MAX_WORKERS = 8


def default_workers():
    """Decoding threads when none are given: the cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclasses.dataclass(frozen=True)
class Reading:
    """Where a photo folder's decoded pixels live (see the module docstring).

    Attributes:
        store: ``auto``, ``memory`` or ``stream``.
        cache: a folder for the memory-mapped copy of the decoded pixels; None: no cache.
        workers: decoding threads; None: :func:`default_workers`.
    """

    store: str = "auto"
    cache: Optional[str] = None
    workers: Optional[int] = None

    def __post_init__(self):
        if self.store not in STORES:
            raise UserError(f"unknown store {self.store!r}; use one of {', '.join(STORES)}")
        if self.cache is not None:
            object.__setattr__(self, "cache", os.path.abspath(os.path.expanduser(str(self.cache))))
        if self.workers is not None and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                         or not 1 <= self.workers <= MAX_WORKERS):
            raise UserError(f"workers must be a number of decoding threads from 1 to {MAX_WORKERS}, "
                            f"got {self.workers!r}")

    @property
    def threads(self):
        """The number of decoding threads."""
        return self.workers or default_workers()

    def streams(self, n_bytes):
        """Whether ``n_bytes`` of decoded pixels are streamed rather than kept in memory."""
        return self.store == "stream" or (self.store == "auto" and n_bytes > MEMORY_LIMIT)
