"""Settings manifests: a result on disk is reused only under the settings that made it.

A stage that writes a result also writes (or finds) a JSON file of the
settings it used: ``settings.json`` in the visualization and example folders,
``importance.json`` beside importance.csv, ``groups.json`` beside groups.csv.
Run again, the stage compares the settings it is asked for with the stored
ones and refuses, in one line naming what differs, instead of mixing or
silently keeping results made under other settings.
"""

import json
import os

from inception_tools.atomic import atomic_open
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


def differences(stored, settings):
    """``"key=stored (now new)"`` for each key of ``settings`` whose stored value differs."""
    return [f"{key}={stored.get(key)!r} (now {value!r})" for key, value in settings.items()
            if not _same(stored.get(key), value)]


def _same(a, b):
    """Equal as JSON values (a tuple equals the list it is stored as)."""
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def require_settings(path, settings, what):
    """Raise UserError unless the manifest ``path`` holds ``settings`` (other keys are ignored).

    ``what`` names the result in the message, e.g. the folder or CSV it describes.
    """
    stored = read_manifest(path)
    if stored is None:
        raise UserError(f"{what} exists without {path}, so its settings are unknown; delete it to recompute it")
    changed = differences(stored, settings)
    if changed:
        raise UserError(f"{what} was made with {', '.join(changed)}; delete it or choose another output folder")


def check_settings(path, settings, what=None):
    """Write ``settings`` to the manifest ``path`` the first time; later, refuse other settings."""
    if os.path.isfile(path):
        require_settings(path, settings, what or os.path.dirname(path))
        return
    with atomic_open(path) as f:
        json.dump(settings, f, indent=1)
