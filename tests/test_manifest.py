"""Settings manifests: what differs is named key by key, inside the runner's config and inputs too."""

import json

import pytest

from inception_tools.errors import UserError
from inception_tools.manifest import differences, read_manifest


def test_differences_name_each_changed_key_and_ignore_keys_not_asked_for():
    stored = {"n_images": 200, "top_k": 1, "size": [28, 28], "seconds": 3.5}
    assert differences(stored, {"n_images": 200, "top_k": 1, "size": (28, 28)}) == []  # a tuple equals its list
    assert differences(stored, {"n_images": 300, "top_k": 1, "extra": 2}) == ["n_images=200 (now 300)",
                                                                             "extra=absent (now 2)"]


def test_differences_inside_objects_are_named_by_their_path():
    stored = {"stage": "examples", "config": {"k": 8, "mode": "center", "old": 1}, "inputs": {"n_images": 40}}
    wanted = {"stage": "examples", "config": {"k": 4, "mode": "center"}, "inputs": {"n_images": 40, "layer": "x"}}
    assert differences(stored, wanted) == ["config.k=8 (now 4)", "config.old=1 (now absent)",
                                           "inputs.layer=absent (now 'x')"]


def test_read_manifest_is_none_without_a_file_and_refuses_a_foreign_one(tmp_path):
    assert read_manifest(tmp_path / "missing.json") is None
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"steps": 16}))
    assert read_manifest(path) == {"steps": 16}
    path.write_text("[1]")
    with pytest.raises(UserError, match="not a settings file"):
        read_manifest(path)
    path.write_text("{not json")
    with pytest.raises(UserError, match="cannot read .* as a settings file"):
        read_manifest(path)
