"""Settings manifests: results are reused only under the settings that made them."""

import json

import pytest

from inception_tools.errors import UserError
from inception_tools.manifest import check_settings, require_settings


def test_first_call_writes_later_calls_compare(tmp_path):
    path = tmp_path / "folder" / "settings.json"
    check_settings(path, {"steps": 16, "size": (28, 28)})
    assert json.loads(path.read_text()) == {"steps": 16, "size": [28, 28]}
    check_settings(path, {"steps": 16, "size": (28, 28)})  # a tuple equals the list it is stored as
    with pytest.raises(UserError, match=r"was made with steps=16 \(now 32\)"):
        check_settings(path, {"steps": 32, "size": (28, 28)})
    assert json.loads(path.read_text()) == {"steps": 16, "size": [28, 28]}


def test_require_compares_only_the_keys_asked_for(tmp_path):
    path = tmp_path / "importance.json"
    path.write_text(json.dumps({"n_images": 200, "top_k": 1, "seconds": 3.5}))
    require_settings(path, {"n_images": 200, "top_k": 1}, "importance.csv")
    with pytest.raises(UserError, match=r"importance.csv was made with n_images=200 \(now 300\)"):
        require_settings(path, {"n_images": 300, "top_k": 1}, "importance.csv")
    with pytest.raises(UserError, match="settings are unknown"):
        require_settings(tmp_path / "missing.json", {"n_images": 200}, "importance.csv")
    path.write_text("[1]")
    with pytest.raises(UserError, match="not a settings file"):
        require_settings(path, {"n_images": 200}, "importance.csv")
