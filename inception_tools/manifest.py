"""Settings manifests: reading them and naming what differs.

The study runner (:mod:`inception_tools.runner`) writes each stage's settings
beside its result (``settings.json``: stage, config, inputs) and, run again,
refuses in one line naming the settings that differ (``config.k=8 (now 4)``)
instead of mixing or silently keeping results made under other settings.
Folders written before a stage ran on the runner hold a flat manifest, which
the stage compares the same way before it takes the folder over.
"""

import json
import os

from inception_tools.errors import UserError


def read_json_object(path, what):
    """The JSON object in the file ``path``; UserError naming ``what`` it should be otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {path} as {what}: {e}") from None
    if not isinstance(value, dict):
        raise UserError(f"{path} is not {what} (a JSON object)")
    return value


def read_manifest(path):
    """The settings stored at ``path``, or None when there is no file."""
    return read_json_object(path, "a settings file") if os.path.isfile(path) else None


def differences(stored, settings, prefix=""):
    """``"key=stored (now new)"`` for each key of ``settings`` whose stored value differs.

    Where both values are objects (the runner's ``config`` and ``inputs``) the keys inside are compared,
    each of either side, and named ``config.k``; a key one side lacks shows as ``absent``.
    """
    changed = []
    for key, value in settings.items():
        old = stored.get(key, ABSENT)
        if isinstance(old, dict) and isinstance(value, dict):
            changed += differences(old, {**{k: ABSENT for k in old}, **value}, f"{prefix}{key}.")
        elif not _same(old, value):
            changed.append(f"{prefix}{key}={old!r} (now {value!r})")
    return changed


class _Absent:
    def __repr__(self):
        return "absent"


ABSENT = _Absent()


def _same(a, b):
    """Equal as JSON values (a tuple equals the list it is stored as)."""
    if a is ABSENT or b is ABSENT:
        return a is b
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))
