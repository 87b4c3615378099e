"""One study runner for every stage: its folder, settings, lock, resume, atomic writes and Ray.

A stage is a pure computation with a typed config and a typed result:

- ``config``: a frozen dataclass, checked when it is made (``__post_init__``
  raises :class:`~inception_tools.errors.UserError`), so bad settings are
  refused before any work;
- ``compute(**inputs, config, checkpoint)``: in-memory objects in (a model, a
  dataset, ...), a result dataclass with numpy fields out, nothing written;
  long loops save their progress through the :class:`Checkpoint` they are
  given (in memory unless the runner gives them a folder);
- ``write(result, folder)``: the result as files, through :class:`Folder`'s
  atomic writers; ``read(folder)`` gives the result back.

:func:`run` gives any stage its folder and what a folder needs: the settings
manifest (``settings.json``: the stage, the config serialized by
:func:`config_dict`, and the identity of the inputs), compared before any
work with the one already there; an exclusive lock, so that a second process
on the same folder is refused in one line; resume (a finished folder is read
back, an interrupted one continues from its checkpoint in ``.partial/``, whose
own manifest keeps other settings out; a run that fails before saving anything
leaves no trace, nor a folder it made; the temporaries of atomic writes a killed run left are removed);
atomic writes, the manifest last; and a refusal to write over
one of the stage's own inputs. Ray distribution passes
through ``inputs`` (``distribute=``): the config is what a worker needs.

    result = runner.run(ATLAS, AtlasConfig(layer="mixed4c"), "out/atlas", model=model, dataset=ds)

A notebook calls the stage's ``compute`` directly and gets the same result
without a folder.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
import os
import shutil
from typing import Any, Callable, Iterable, Mapping, Optional

import filelock
import numpy as np

from inception_tools import layout
from inception_tools.atomic import atomic_open, atomic_path
from inception_tools.errors import UserError
from inception_tools.manifest import differences, read_manifest

PARTIAL = ".partial"
LOCK = ".lock"


@dataclasses.dataclass(frozen=True)
class Stage:
    """What the runner needs to know of a stage.

    Every file name below may hold ``{name}``, which :func:`run` fills with its
    ``name`` (default: the stage's name), so that several runs of a stage keep
    their files side by side in one folder (``{name}.csv``, ``{name}.partial``).

    Attributes:
        name: the stage's name, stored in the settings manifest.
        compute: ``compute(**inputs, config=config, checkpoint=checkpoint) -> result``.
        write: ``write(result, folder: Folder)``: every file through the folder's atomic writers.
        outputs: the files ``write`` makes (relative to the folder), or ``outputs(config) -> names`` when
            they depend on the config; all present = finished.
        read: ``read(folder: Folder) -> result`` for a finished folder (None: compute again, write nothing);
            for a stage that ``collects``, ``read(folder, config)``: the items ``config`` asks for.
        collects: config fields whose values a folder gathers over time (the channels rendered): left out
            of the manifest, so later runs with other values add to the same folder.
        todo: ``todo(config, folder) -> config or None``: ``config`` narrowed to what the folder lacks
            (None: nothing). Default: ``config`` while an output is missing.
        manifest, partial, lock: the settings manifest, the checkpoint folder and the lock file.
    """

    name: str
    compute: Callable[..., Any]
    write: Callable[[Any, "Folder"], None]
    outputs: Any
    read: Optional[Callable[..., Any]] = None
    collects: tuple = ()
    todo: Optional[Callable[[Any, "Folder"], Any]] = None
    manifest: str = layout.SETTINGS_JSON
    partial: str = PARTIAL
    lock: str = LOCK

    def output_names(self, config) -> tuple:
        """The files ``write`` makes for ``config``."""
        return tuple(self.outputs(config) if callable(self.outputs) else self.outputs)


def config_dict(config, leave_out: Iterable[str] = ()) -> dict:
    """A config dataclass as JSON values (tuples become lists), less the fields ``leave_out``: the form
    stored in ``settings.json``."""
    values = {key: value for key, value in dataclasses.asdict(config).items() if key not in leave_out}
    return json.loads(json.dumps(values))


def config_from_dict(cls, values: Mapping):
    """The config ``cls`` from :func:`config_dict`'s form (lists back to tuples where the field is a tuple)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"unknown {cls.__name__} settings: {', '.join(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def data_digest(dataset) -> str:
    """sha256 of a dataset's image ids, labels and resize mode: which images a result was made from."""
    digest = hashlib.sha256()
    digest.update("\n".join(dataset.ids).encode())
    digest.update(np.asarray(dataset.labels, np.int64).tobytes())
    digest.update(str(dataset.resize).encode())
    return digest.hexdigest()


def identity(model=None, dataset=None, **extra) -> dict:
    """The inputs' part of the settings manifest: the model's name, the dataset's size and digest."""
    found = {}
    if model is not None:
        found["model"] = model.name
    if dataset is not None:
        found.update(n_images=len(dataset), data=data_digest(dataset))
    found.update(extra)
    return found


class Checkpoint:
    """Named groups of arrays a long computation saves as it goes.

    Without a folder they live in memory (a plain call of ``compute`` writes
    nothing); given one (the runner's ``.partial/``), each group is an ``.npz``
    written atomically, so a killed run continues from the last saved group.
    """

    def __init__(self, folder: Optional[str] = None):
        self.folder = folder
        self._memory: dict = {}

    def load(self, name: str) -> Optional[dict]:
        """The arrays saved as ``name``, or None."""
        if self.folder is None:
            return self._memory.get(name)
        path = os.path.join(self.folder, name + ".npz")
        if not os.path.isfile(path):
            return None
        with np.load(path, allow_pickle=False) as saved:
            return {key: saved[key] for key in saved.files}

    def path(self, name: str) -> Optional[str]:
        """A path inside the checkpoint folder for files a stage keeps itself (memory-mapped arrays, say);
        None when the checkpoint lives in memory."""
        return None if self.folder is None else os.path.join(self.folder, name)

    def save(self, name: str, **arrays) -> None:
        """Save ``arrays`` as ``name`` (replacing what was saved under that name)."""
        if self.folder is None:
            self._memory[name] = {key: np.asarray(value) for key, value in arrays.items()}
            return
        with atomic_path(os.path.join(self.folder, name + ".npz")) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)


class Folder:
    """A stage's output folder: paths inside it and atomic writers."""

    def __init__(self, path: str, name: str = ""):
        self.path = os.fspath(path)
        self.name = name

    def file(self, name: str) -> str:
        """The path of ``name`` inside the folder (``{name}`` in it filled with the run's name)."""
        return os.path.join(self.path, name.replace("{name}", self.name))

    def open(self, name: str, mode: str = "w", **kwargs):
        """Open ``name`` for writing; it appears whole when the block ends (a context manager)."""
        return atomic_open(self.file(name), mode, **kwargs)

    def temporary(self, name: str):
        """A temporary path that replaces ``name`` when the block ends: for writers that take a file name."""
        return atomic_path(self.file(name))

    def write_json(self, name: str, value) -> None:
        with self.open(name, "w", encoding="utf-8") as f:
            json.dump(value, f, indent=1)

    def write_npy(self, name: str, array) -> None:
        with self.open(name, "wb") as f:
            np.save(f, np.asarray(array), allow_pickle=False)

    def write_npz(self, name: str, **arrays) -> None:
        with self.open(name, "wb") as f:
            np.savez_compressed(f, **arrays)

    def read_json(self, name: str):
        with open(self.file(name), encoding="utf-8") as f:
            return json.load(f)


def settings(stage: Stage, config, inputs: Mapping) -> dict:
    """What the manifest holds for ``stage`` run with ``config`` on ``inputs`` (see :func:`identity`); the
    fields the stage ``collects`` are left out."""
    return {"stage": stage.name, "config": config_dict(config, stage.collects), "inputs": dict(inputs)}


def check_not_inputs(stage: Stage, config, folder: "Folder", reads: Iterable[str]) -> None:
    """Refuse a folder whose outputs (or settings) would replace one of the files the stage reads."""
    names = (*stage.output_names(config), stage.manifest)
    targets = {os.path.realpath(folder.file(name)) for name in names}
    for path in reads:
        if path is not None and os.path.realpath(os.fspath(path)) in targets:
            raise UserError(f"the output folder {folder.path} would overwrite {path}, an input of {stage.name}: "
                            "choose another output folder")


def run(stage: Stage, config, folder: str, inputs_identity: Optional[Mapping] = None, reads: Iterable[str] = (),
        name: Optional[str] = None, **inputs):
    """Run ``stage`` with ``config`` on ``inputs`` into ``folder``, or read it back if it is finished there.

    Args:
        stage: the stage (see :class:`Stage`).
        config: its frozen config dataclass.
        folder: the output folder (created if needed).
        inputs_identity: what identifies the inputs in the manifest (default: :func:`identity` of the
            ``model`` and ``dataset`` inputs).
        reads: files the stage reads, which its outputs must not replace.
        name: fills ``{name}`` in the stage's file names (default: the stage's name).
        **inputs: passed to ``stage.compute`` (``model=``, ``dataset=``, ``distribute=`` ...).

    Returns:
        The stage's result (for a stage that collects: everything ``config`` asks for, read back).

    Raises:
        UserError: the folder holds a result made with other settings, another process writes it, or an
            output would replace an input.
    """
    folder = Folder(folder, stage.name if name is None else name)
    if inputs_identity is None:
        inputs_identity = identity(inputs.get("model"), inputs.get("dataset"))
    wanted = settings(stage, config, inputs_identity)
    check_not_inputs(stage, config, folder, reads)
    created = not os.path.isdir(folder.path)
    try:
        os.makedirs(folder.path, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot write {folder.path}: {e.strerror or e}") from None
    lock_path = folder.file(stage.lock)
    lock = filelock.FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise UserError(f"another process is writing {folder.path}; wait for it to finish or choose another "
                        "output folder") from None
    try:
        return _run_locked(stage, config, folder, wanted, inputs)
    except BaseException:
        if created and os.listdir(folder.path) == [os.path.basename(lock_path)]:  # a failed start: no trace
            os.remove(lock_path)
            os.rmdir(folder.path)
        raise
    finally:
        lock.release()


def adopt(stage: Stage, folder: str, legacy: Mapping, wanted: Mapping, name: Optional[str] = None) -> bool:
    """Take over a folder that ``stage`` wrote before it ran on the runner.

    Such a folder's manifest is flat (no ``stage`` key). When it records ``legacy``, what this run would
    have recorded then, it is rewritten as ``wanted`` (:func:`settings` of this run), and :func:`run` then
    reads the folder back or continues it; otherwise one line names what differs.

    Returns:
        True when the folder was taken over; False when it holds no flat manifest (nothing to do).

    Raises:
        UserError: the flat manifest records other settings.
    """
    folder = Folder(folder, stage.name if name is None else name)
    stored = read_manifest(folder.file(stage.manifest))
    if stored is None or "stage" in stored:
        return False
    changed = differences(stored, legacy)
    if changed:
        raise UserError(f"{folder.path} was made by an earlier version with {', '.join(changed)}; delete it or "
                        "choose another output folder")
    folder.write_json(stage.manifest, dict(wanted))
    return True


def _todo(stage, config, folder):
    if stage.todo is not None:
        return stage.todo(config, folder)
    return None if all(os.path.exists(folder.file(n)) for n in stage.output_names(config)) else config


def _read(stage, config, folder, inputs):
    if stage.read is None:
        return stage.compute(**inputs, config=config, checkpoint=Checkpoint())
    return stage.read(folder, config) if stage.collects else stage.read(folder)


def _run_locked(stage, config, folder, wanted, inputs):
    manifest, partial = folder.file(stage.manifest), folder.file(stage.partial)
    pending_manifest = os.path.join(partial, layout.SETTINGS_JSON)
    stored = read_manifest(manifest)
    todo = config
    if stored is not None:
        _refuse_other(folder.path, stored, wanted, "was made with")
        todo = _todo(stage, config, folder)
        if todo is None:
            return _read(stage, config, folder, inputs)
    else:
        pending = read_manifest(pending_manifest)
        if pending is not None:
            _refuse_other(folder.path, pending, wanted, "holds an unfinished run made with")
        elif any(os.path.exists(folder.file(n)) for n in stage.output_names(config)):
            raise UserError(f"{folder.path} holds {stage.name} files without "
                            f"{os.path.basename(folder.file(stage.manifest))}, so "
                            "their settings are unknown; delete them or choose another output folder")
    os.makedirs(partial, exist_ok=True)
    _remove_stale_temporaries(stage, config, folder, partial)
    if not os.path.isfile(pending_manifest):
        Folder(partial).write_json(layout.SETTINGS_JSON, wanted)
    try:
        result = stage.compute(**inputs, config=todo, checkpoint=Checkpoint(partial))
    except BaseException:
        if os.listdir(partial) == [layout.SETTINGS_JSON]:  # nothing saved yet: leave no trace
            shutil.rmtree(partial, ignore_errors=True)
        raise
    stage.write(result, folder)
    if stored is None:
        folder.write_json(stage.manifest, wanted)
    shutil.rmtree(partial, ignore_errors=True)
    return _read(stage, config, folder, inputs) if stage.collects else result


def _remove_stale_temporaries(stage, config, folder, partial):
    """The temporaries of atomic writes (``.<file>.*.tmp``) a killed run left beside the outputs and in the
    checkpoint (safe: the lock says no one else writes them)."""
    stale = glob.glob(os.path.join(glob.escape(partial), "**", ".*.tmp"), recursive=True)
    for name in (*stage.output_names(config), stage.manifest):
        path = folder.file(name)
        stale += glob.glob(os.path.join(glob.escape(os.path.dirname(path)),
                                        "." + glob.escape(os.path.basename(path)) + ".*.tmp"))
    for path in stale:
        os.remove(path)


def _refuse_other(where, stored, wanted, made):
    changed = differences(stored, wanted)
    if changed:
        raise UserError(f"{where} {made} {', '.join(changed)}; delete it or choose another output folder")
