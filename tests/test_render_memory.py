"""The memory estimate of a render, and the refusal of what cannot fit (inception_tools/render_memory.py)."""

import pytest

from inception_tools import render_memory
from inception_tools.cli import main
from inception_tools.errors import UserError


def test_the_estimate_follows_the_measured_peaks(embedded_model):
    # Peak RSS of `visualize --channels 0 --steps 3 --size S` (fast engine, 4 images) on this machine:
    # 112 px 0.97 GB, 224 px 1.24 GB, 448 px 2.23 GB (docs/guides/hostile-review.md).
    for size, measured in ((112, 0.97e9), (224, 1.24e9), (448, 2.23e9)):
        assert render_memory.estimate(embedded_model, size, 4) == pytest.approx(measured, rel=0.2)
    assert render_memory.estimate(embedded_model, 2000, 4) > 20e9  # the size that grew to 24 GB


def test_a_render_that_cannot_fit_is_refused_with_the_estimate(embedded_model):
    with pytest.raises(UserError, match=r"needs about 2\d\.\d GB \(estimate\), more than the 8\.0 GB"):
        render_memory.check_render_memory(embedded_model, 2000, 4, available=8e9)
    assert render_memory.check_render_memory(embedded_model, 28, 4, available=8e9) < 1e9


def test_visualize_size_2000_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(render_memory, "available_bytes", lambda: 16e9)
    out = tmp_path / "study"
    assert main(["visualize", "--channels", "0", "--size", "2000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "GB (estimate)" in err and err.count("\n") == 1  # before: grew to 24 GB and was killed
    assert not out.exists()


def test_the_api_render_is_refused_too(embedded_model, monkeypatch):
    import inception_tools as it

    monkeypatch.setattr(render_memory, "available_bytes", lambda: 16e9)
    with pytest.raises(UserError, match="GB \\(estimate\\)"):
        it.render(embedded_model, "mixed3a", 0, steps=2, size=2000)
