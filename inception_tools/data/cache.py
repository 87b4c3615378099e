"""A photo folder's decoded pixels kept once on disk, so later commands start at once.

An entry in a cache folder is named by a key: the sha256 of the cache format,
the resize mode, the stored image size, and every file's relative path, size
and modification time. A changed folder (a file added, removed, rewritten) or
another resize gets another entry; an entry is never updated in place.

- ``<key>.pixels``: raw uint8 [n, h, w, 3], the readable photos in path order;
- ``<key>.json``: what it holds (written last: its presence marks the entry
  complete): ``kept`` (positions of the decoded files among the folder's
  files), ``skipped`` and ``cut`` file names (unreadable; cut to their central
  part), the shapes and the format.

The entry holds every readable photo of the folder; a limit picks from it.
Building decodes on the :class:`~inception_tools.data.decoding.Decoder`'s
threads, :data:`CHUNK` files at a time, appending to ``<key>.pixels.partial``
with its progress in ``<key>.partial.json``, so an interrupted build resumes;
a file lock lets one process build while another waits. Reads map the file
for each batch and let it go, so memory holds one batch however large the
entry (the pages stay in the system's file cache, not in the process).

An entry whose files disagree with its record (truncated pixels, another
format) is stale: a one-line error names it rather than reading it.
"""

import hashlib
import json
import logging
import os

import filelock
import numpy as np

from inception_tools import progress
from inception_tools.atomic import atomic_open
from inception_tools.data import resize as resizing
from inception_tools.errors import UserError
from inception_tools.mapped import MappedRows

FORMAT = 1
CHUNK = 256
log = logging.getLogger(__name__)


def entry_key(folder, files, mode, image_shape):
    """The key of the entry for ``files`` (relative paths under ``folder``) resized with ``mode``."""
    digest = hashlib.sha256(json.dumps([FORMAT, mode, list(resizing.stored_size(mode, image_shape))]).encode())
    for path in files:
        stat = os.stat(folder / path)
        digest.update(f"{path.as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


class CachedPixels(MappedRows):
    """uint8 [n, h, w, 3] read from an entry's raw pixel file, one mapping per read."""

    def __init__(self, path, shape):
        super().__init__(path, np.uint8, shape)


class Entry:
    """The files of one cache entry."""

    def __init__(self, cache_dir, key):
        self.dir = cache_dir
        self.key = key
        base = os.path.join(cache_dir, key)
        self.pixels, self.record = base + ".pixels", base + ".json"
        self.partial_pixels, self.partial_record = base + ".pixels.partial", base + ".partial.json"
        self.lock = base + ".lock"

    def load(self, image_bytes):
        """The complete entry's record, None when there is none; UserError when it is stale."""
        if not os.path.isfile(self.record):
            return None
        try:
            with open(self.record) as f:
                record = json.load(f)
            found = os.path.getsize(self.pixels)
        except (OSError, ValueError) as e:
            raise self.stale(f"cannot read it: {getattr(e, 'strerror', None) or e}") from None
        if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("key") != self.key \
                or not all(isinstance(record.get(name), list) for name in ("kept", "skipped", "cut")):
            raise self.stale(f"its record is not format {FORMAT} of key {self.key}")
        expected = len(record["kept"]) * image_bytes
        if found != expected:
            raise self.stale(f"{found} bytes of pixels where its record says {expected}")
        return record

    def stale(self, why):
        return UserError(f"cache entry {self.record} is stale ({why}): delete {self.key}.* in {self.dir} "
                         "to rebuild it")


def _writable(cache_dir, needed):
    """Make ``cache_dir`` and check a file can be made there; a one-line UserError otherwise."""
    try:
        os.makedirs(cache_dir, exist_ok=True)
        probe = os.path.join(cache_dir, f".write-test-{os.getpid()}")
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as e:
        reason = "it is read-only" if e.errno in (13, 30) else (e.strerror or str(e))
        raise UserError(f"cannot keep the decoded images in cache folder {cache_dir} ({_size(needed)}): "
                        f"{reason}") from None


def _size(n_bytes):
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.{0 if n_bytes >= 1e7 else 1}f} MB"


def _build(entry, decoder, files, image_bytes):
    """Decode ``files`` into the entry, resuming a partial build; return its record."""
    state = {"done": 0, "kept": [], "skipped": [], "cut": []}
    if os.path.isfile(entry.partial_record) and os.path.isfile(entry.partial_pixels):
        with open(entry.partial_record) as f:
            state = json.load(f)
    with open(entry.partial_pixels, "ab"):
        pass
    with open(entry.partial_pixels, "r+b") as out, \
            progress.bar(total=len(files), initial=state["done"], desc=f"caching {decoder.folder.name}",
                         unit="img") as bar:
        out.truncate(len(state["kept"]) * image_bytes)
        out.seek(0, os.SEEK_END)
        for start in range(state["done"], len(files), CHUNK):
            chunk = files[start:start + CHUNK]
            for i, (pixels, cut) in enumerate(decoder.decode(chunk), start):
                if pixels is None:
                    state["skipped"].append(files[i].as_posix())
                    continue
                out.write(pixels.tobytes())
                state["kept"].append(i)
                if cut:
                    state["cut"].append(files[i].as_posix())
            out.flush()
            os.fsync(out.fileno())
            state["done"] = start + len(chunk)
            with atomic_open(entry.partial_record) as f:
                json.dump(state, f)
            bar.update(len(chunk))
    os.replace(entry.partial_pixels, entry.pixels)
    record = {"format": FORMAT, "key": entry.key, "mode": decoder.mode, "image_shape": list(decoder.image_shape),
              "files": len(files), "kept": state["kept"], "skipped": state["skipped"], "cut": state["cut"]}
    with atomic_open(entry.record) as f:
        json.dump(record, f)
    os.remove(entry.partial_record)
    return record


def cached(cache_dir, decoder, files):
    """The folder's readable photos from the cache entry of ``files``, built first when there is none.

    Returns:
        ``(pixels, record)``: :class:`CachedPixels` of the kept files, and the entry's record
        (``kept``, ``skipped``, ``cut``).
    """
    shape = (*resizing.stored_size(decoder.mode, decoder.image_shape), 3)
    image_bytes = int(np.prod(shape))
    entry = Entry(cache_dir, entry_key(decoder.folder, files, decoder.mode, decoder.image_shape))
    record = entry.load(image_bytes) if os.path.isdir(cache_dir) else None
    if record is None:
        _writable(cache_dir, len(files) * image_bytes)
        lock = filelock.FileLock(entry.lock)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            log.info(f"waiting for another process that is caching {decoder.folder} in {cache_dir}")
            lock.acquire()
        try:
            record = entry.load(image_bytes) or _build(entry, decoder, files, image_bytes)
        finally:
            lock.release()
    return CachedPixels(entry.pixels, (len(record["kept"]), *shape)), record
