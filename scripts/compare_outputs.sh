#!/usr/bin/env bash
# Run the embedded main job and the commands around it on two versions of the code, then compare the
# two output trees byte by byte (docs/design.md, "Outputs unchanged"). Files that differ only in
# recorded wall times (importance.json "seconds", circuit.json timings, blocks "render_seconds") are
# expected; anything else is a change of output.
#
#   bash scripts/compare_outputs.sh BEFORE_REV [AFTER_REV] [WORK]   (AFTER_REV default: the working tree)
#   BEFORE_TREE=DIR bash scripts/compare_outputs.sh - [AFTER_REV] [WORK]   (compare with a tree made before)
#
# ~5 minutes per version on 2 cores; run it through `flock /work/heavy.lock` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1; after=${2:-}; work=${3:-$(mktemp -d)}
py=${PYTHON:-$PWD/.venv/bin/python}

jobs() {  # jobs CODE_ROOT OUT_ROOT
  local code=$1 R=$2
  rm -rf "$R"; mkdir -p "$R"
  (
    cd "$R"
    export PYTHONPATH=$code INCEPTION_TOOLS_RENDER_CACHE=$R/render-cache
    it() { "$py" -m inception_tools "$@" > "$R/$1.log"; }
    "$py" -c "
from inception_tools.data.digits import load_digits
from PIL import Image; import numpy as np
d, _ = load_digits('test'); Image.fromarray(np.repeat(d[3][..., None], 3, axis=-1)).save('$R/digit.png')"
    it run --out "$R/study"
    it examples --layer mixed3a --mode max -k 4 --limit 200 --channels 0-5 --out "$R/study-max"
    it classes --layers mixed3a,mixed4a --limit 300 --bootstrap 20 --importance "$R/study/importance.csv" \
      --out "$R/classes"
    it basis --layer mixed3a --limit 200 --render --vectors 1-2 --steps 16 --ablation-images 100 --out "$R/basis"
    it blocks --image "$R/digit.png" --layers mixed3a,mixed4a --n-classes 2 --top-n 3 --groups 3 --resize native \
      --render-size 32 --render-steps 8 --out "$R/blocks"
    it dissect --layer mixed3a --limit 32 --resolution 14 --out "$R/dissect"
    it circuit --layer mixed3a --channel 5 --top 2 --steps 8 --size 32 --out "$R/circuit"
    it tuning --layer mixed3a --channels 5 --stimulus line --replicates 2 --out "$R/tuning"
  )
}

code() {  # code REV DIR: the package at REV (the working tree when REV is empty)
  rm -rf "$2"; mkdir -p "$2"
  if [ -z "$1" ]; then cp -r inception_tools "$2/"; else git archive "$1" inception_tools | tar -x -C "$2"; fi
}

if [ -n "${BEFORE_TREE:-}" ]; then
  rm -rf "$work/before"; cp -r "$BEFORE_TREE" "$work/before"
else
  code "$before" "$work/before-code"; jobs "$work/before-code" "$work/before"
fi
code "$after" "$work/after-code"; jobs "$work/after-code" "$work/after"
total=$(cd "$work/before" && find . -type f ! -name "*.log" | wc -l)
differ=$(diff -rq "$work/before" "$work/after" | grep -v "\.log " || true)
echo "$total files; $(printf '%s' "$differ" | grep -c . || true) differ:"
printf '%s\n' "$differ"
