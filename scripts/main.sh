#!/usr/bin/env bash
# Set up, then run the whole study on the embedded default model:
# importance -> groups -> visualizations + dataset examples -> gallery + histogram.
# Extra arguments go to `inception-tools run` (e.g. --model InceptionV1 --model-path ... --data ...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/inception-tools run "$@"
