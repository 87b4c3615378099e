"""The per-image outcomes of a scan: one memory-mapped record per (channel, image).

Each record is 13 bytes (:data:`RECORD`): ``outcome`` (0 = not computed yet,
1 = true class not in the top k after the ablation, 2 = in it), and the float32
``delta_logprob``, ``kl`` and ``l1`` of :mod:`.measures`. 50,000 images x 832
channels take 541 MB.

While a scan runs, its checkpoint's ``store/`` folder (the study runner's
``importance.partial/store/``) holds ``outcomes.npy`` for every channel
of the layer (so any channel list resumes from it), ``images.npz`` with the
per-image baseline and ``base_logp.npy``, the unablated log-probabilities over
the real classes that KL and L1 compare against (read a batch at a time:
:class:`~inception_tools.mapped.MappedRows`). Each flush lets go of the
records' pages in this process (they stay in the file), so a scan's memory
does not grow with the number of images. Engines write values first
and the ``outcome`` byte last, so a killed scan leaves finished records
marked and unfinished ones pending. A scan that keeps nothing on disk (an
in-memory checkpoint) holds the same arrays in memory (:meth:`OutcomeStore.in_memory`).

A finished scan leaves beside ``importance.csv``:

- ``importance.outcomes.npy``: the records, [scored channels, images used];
- ``importance.images.npz``: ``channels``, ``labels``, ``base_correct``,
  ``base_logprob``, ``image_index`` (position in the dataset of each column)
  and ``ids``.

:meth:`OutcomeStore.open` reads them back (memory-mapped, no pickle), so later
commands never re-run the network.
"""

import os

import numpy as np

from inception_tools import layout
from inception_tools.atomic import atomic_path
from inception_tools.errors import UserError
from inception_tools.mapped import MappedRows, release_pages

RECORD = np.dtype([("outcome", "u1"), ("delta_logprob", "<f4"), ("kl", "<f4"), ("l1", "<f4")])
PENDING, WRONG, RIGHT = 0, 1, 2
BASE_FIELDS = ("labels", "base_correct", "base_logprob", "image_index", "ids")
FILES = layout.IMPORTANCE_OUTCOMES  # a finished scan's records and images, named after its table


class OutcomeStore:
    """Records [channels, images] plus the per-image baseline.

    Attributes:
        channels: channel index of each row.
        labels, base_correct, base_logprob, image_index, ids: per image (column).
        records: the structured memory map (fields of :data:`RECORD`).
    """

    def __init__(self, records, channels, base, base_real_logp=None):
        self.records = records
        self.channels = [int(c) for c in channels]
        self.row_of = {c: i for i, c in enumerate(self.channels)}
        self.labels = np.asarray(base["labels"], np.int64)
        self.base_correct = np.asarray(base["base_correct"], bool)
        self.base_logprob = np.asarray(base["base_logprob"], np.float64)
        self.image_index = np.asarray(base["image_index"], np.int64)
        self.ids = [str(i) for i in base["ids"]]
        self.base_real_logp = base_real_logp

    # --- reading -----------------------------------------------------------

    @classmethod
    def open(cls, csv_path):
        """The outcomes kept beside ``csv_path`` by a finished scan (read-only, memory-mapped)."""
        records_path, images_path = layout.outcome_files(csv_path)
        for path in (records_path, images_path):
            if not os.path.isfile(path):
                raise UserError(f"{path} not found: rerun the importance scan of {csv_path} "
                                "with this version to keep its per-image outcomes")
        try:
            records = np.load(records_path, mmap_mode="r", allow_pickle=False)
            with np.load(images_path, allow_pickle=False) as f:
                base = {key: f[key] for key in (*BASE_FIELDS, "channels")}
        except (ValueError, KeyError, OSError) as e:
            raise UserError(f"{records_path} or {images_path} is not a scan's outcome file: {e}") from None
        if records.dtype != RECORD or records.shape != (len(base["channels"]), len(base["labels"])):
            raise UserError(f"{records_path} does not match {images_path} (shape {records.shape})")
        return cls(records, base["channels"], base)

    @property
    def n_images(self):
        return self.records.shape[1]

    def field(self, name):
        """One field of every record, [channels, images]."""
        return self.records[name]

    @property
    def correct(self):
        """bool [channels, images]: true class in the top k after the ablation."""
        return self.records["outcome"] == RIGHT

    def pending(self, rows, start, stop):
        """True when any record of ``rows`` x images ``start:stop`` is not computed yet."""
        return bool((self.records["outcome"][rows, start:stop] == PENDING).any())

    def n_pending(self, rows, start, stop):
        return int((self.records["outcome"][rows, start:stop] == PENDING).sum())

    # --- writing (a scan's partial folder) ---------------------------------

    @staticmethod
    def real_logp_file(folder, n_images, n_real):
        """The partial folder's file of unablated log-probabilities [images, real classes], new and zero-filled;
        the unablated pass fills it before :meth:`create`."""
        return MappedRows.create(os.path.join(folder, "base_logp.npy"), np.float64, (n_images, n_real))

    @classmethod
    def create(cls, folder, n_channels, base):
        """Open (or make) the partial store of a scan over every channel of a layer.

        ``base`` holds the per-image baseline arrays of :data:`BASE_FIELDS`; it is
        written once and read back on resume, with ``base_logp.npy`` (:meth:`real_logp_file`).
        """
        records_path = os.path.join(folder, "outcomes.npy")
        images_path = os.path.join(folder, "images.npz")
        n_images = len(base["labels"])
        if not os.path.isfile(images_path):
            np.lib.format.open_memmap(records_path, "w+", RECORD, (n_channels, n_images)).flush()
            with atomic_path(images_path) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, **{key: base[key] for key in BASE_FIELDS})
        return cls.resume(folder)

    @classmethod
    def in_memory(cls, n_channels, base, real_logp):
        """An empty store of a scan that keeps nothing on disk: records, baseline and the unablated
        log-probabilities ``real_logp`` [images, real classes] all in memory."""
        records = np.zeros((n_channels, len(base["labels"])), RECORD)
        return cls(records, range(n_channels), base, np.asarray(real_logp))

    @classmethod
    def resume(cls, folder):
        """The partial store in ``folder``, or None when the scan has not got that far."""
        images_path = os.path.join(folder, "images.npz")
        if not os.path.isfile(images_path):
            return None
        with np.load(images_path, allow_pickle=False) as f:
            base = {key: f[key] for key in BASE_FIELDS}
        records = np.load(os.path.join(folder, "outcomes.npy"), mmap_mode="r+")
        real_logp = MappedRows(os.path.join(folder, "base_logp.npy"))
        return cls(records, range(records.shape[0]), base, real_logp)

    def write(self, rows, start, outcomes):
        """Store ``outcomes`` (dict of [len(rows), n] arrays) for images ``start:start+n``."""
        n = outcomes["correct"].shape[1]
        columns = slice(start, start + n)
        for name in ("delta_logprob", "kl", "l1"):
            self.records[name][rows, columns] = outcomes[name]
        self.records["outcome"][rows, columns] = np.where(outcomes["correct"], RIGHT, WRONG)

    def flush(self):
        """Write the records to their file and let go of the pages they held in this process's memory
        (nothing to do for records in memory)."""
        if isinstance(self.records, np.memmap):
            self.records.flush()
            release_pages(self.records)

    def save(self, folder, channels, n_images):
        """Write the final outcome files (:data:`FILES`) into ``folder`` (a :class:`inception_tools.runner.Folder`):
        rows ``channels``, the first ``n_images`` columns."""
        records_name, images_name = FILES
        rows = [self.row_of[c] for c in channels]
        with folder.temporary(records_name) as tmp:
            out = np.lib.format.open_memmap(tmp, "w+", RECORD, (len(rows), n_images))
            for i, row in enumerate(rows):
                out[i] = self.records[row, :n_images]
            out.flush()
            del out
        base = {"channels": np.asarray(channels, np.int64), "labels": self.labels[:n_images],
                "base_correct": self.base_correct[:n_images], "base_logprob": self.base_logprob[:n_images],
                "image_index": self.image_index[:n_images], "ids": np.asarray(self.ids[:n_images], dtype=str)}
        with folder.open(images_name, "wb") as f:
            np.savez(f, **base)

    def view(self, channels, n_images):
        """A read-only store of rows ``channels`` and the first ``n_images`` columns (no copy of records)."""
        rows = [self.row_of[c] for c in channels]
        contiguous = rows == list(range(rows[0], rows[0] + len(rows))) if rows else True
        records = self.records[rows[0]:rows[0] + len(rows), :n_images] if contiguous else \
            self.records[rows, :n_images]
        base = {"labels": self.labels[:n_images], "base_correct": self.base_correct[:n_images],
                "base_logprob": self.base_logprob[:n_images], "image_index": self.image_index[:n_images],
                "ids": self.ids[:n_images]}
        return OutcomeStore(records, channels, base)
