#!/usr/bin/env bash
# Create .venv with the toolkit, the real lucid, the test tools, Ray (its tests run too) and the docs
# tools (the docs build is a test). Idempotent: reinstalls only when setup.py, pyproject.toml or this
# script changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null; then python=$candidate; break; fi
  done
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

stamp=".venv/.installed-$(cat setup.py pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setting up .venv (TensorFlow, lucid, ...; a few minutes the first time)" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,ray,docs]"
  # lucid 0.3.10 pins numpy<=1.19, which cannot install on Python 3.11: install it
  # without its pins; setup.py declares what it really imports.
  .venv/bin/python -m pip install -q --no-deps lucid==0.3.10
  # tf-keras (what tf_slim's batch norm needs for the slim stand-ins in the tests) without its
  # dependency on the full `tensorflow`, which would replace tensorflow-cpu's files and try CUDA
  # at every session (a "failed call to cuInit" line on stderr); its version follows TensorFlow's.
  tf_version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('tensorflow-cpu'))")
  .venv/bin/python -m pip install -q --no-deps "tf-keras==${tf_version%.*}.*"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
