#!/usr/bin/env bash
# Regenerates docs/RESULTS.md's measured block and docs/results/ppl-vs-total-bits.png
# (python -m baq.results; see python/README.md). Extra arguments are passed on, e.g.
#   scripts/results.sh --quick
#   scripts/results.sh --jobs 2 --extra "group-size=32" --extra "mse=true"
# Runs are cached in results-work/, keyed by a hash of baq-opt, python/baq and the data.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${BAQ_DATA:-../shared/data}
for f in stories260K.bin tok512.bin tinystories-calib.txt tinystories-dev.txt; do
  [[ -f $D/$f ]] || { echo "results.sh: $D/$f not found (set BAQ_DATA)" >&2; exit 2; }
done
[[ -x build/bin/baq-opt ]] || { echo "results.sh: build/bin/baq-opt not built" >&2; exit 2; }
PYTHONPATH=python exec /usr/bin/python3 -m baq.results --checkpoint "$D/stories260K.bin" \
  --tokenizer "$D/tok512.bin" --calib "$D/tinystories-calib.txt" \
  --text "$D/tinystories-dev.txt" --baq-opt build/bin/baq-opt "$@"
