"""Fixtures shared by the tests: the shared folder, the real and stand-in InceptionV1."""

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
INCEPTIONV1_PB = SHARED / "models" / "inceptionv1" / "InceptionV1.pb"
IMAGENET_SAMPLE = SHARED / "data" / "imagenet-sample"


@pytest.fixture(scope="session")
def inceptionv1_path():
    """The local copy of Lucid's InceptionV1 (skips when ../shared is absent)."""
    if not INCEPTIONV1_PB.is_file():
        pytest.skip("../shared/models/inceptionv1 is absent")
    return str(INCEPTIONV1_PB)


@pytest.fixture(scope="session")
def imagenet_sample():
    if not IMAGENET_SAMPLE.is_dir():
        pytest.skip("../shared/data/imagenet-sample is absent")
    return str(IMAGENET_SAMPLE)


@pytest.fixture(scope="session")
def standin_dir(tmp_path_factory):
    """A random-weight InceptionV1 stand-in with its synsets file (needs no ../shared)."""
    from inception_tools.models.standin import write_standin

    folder = tmp_path_factory.mktemp("standin")
    write_standin(folder / "InceptionV1.pb", seed=0)
    lines = ["????????? dummy class for index 0"] + [f"n{i:08d} class {i}" for i in range(1, 1001)]
    (folder / "synsets.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="session")
def embedded_model():
    from inception_tools.models import load_model

    return load_model("embedded")


@pytest.fixture(autouse=True)
def _progress_shown_by_no_one():
    """Each test starts with no progress factory (the README snippet turns bars on) and leaves none."""
    from inception_tools import progress

    progress.set_progress(None)
    yield
    progress.set_progress(None)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's model cache or reaches the internet."""
    monkeypatch.setenv("INCEPTION_TOOLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("INCEPTION_TOOLS_ZOO_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("INCEPTION_TOOLS_INCEPTIONV1", raising=False)


@pytest.fixture(scope="session")
def local_ray(tmp_path_factory):
    """A local Ray of 2 one-CPU workers for the whole session, and the file that arms a worker crash.

    Creating the file makes the next task started kill its worker once (see
    ``inception_tools.scale.ray_session.crash_once_if_armed``).
    """
    import ray

    from inception_tools.scale.ray_session import CRASH_ENV

    crash = tmp_path_factory.mktemp("ray") / "crash"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {CRASH_ENV: str(crash)}})
    yield ray, crash
    ray.shutdown()
