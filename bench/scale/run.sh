#!/usr/bin/env bash
# Scale benchmark (docs/PERFORMANCE.md, "Scale"): quantize a model with the
# linear-layer shapes of a 1.3B-class decoder (24 blocks, hidden 2048,
# SwiGLU FFN 8192; f16 weights, f32 Hessians) from MLIR bytecode.
#
#   bench/scale/run.sh [--blocks N] [--hidden H] [--ffn F] [--build DIR]
#                      [--baq-opt PATH] [--work DIR] [--regen]
#                      [--mem-limit-gb G] [--no-nvvm]
#
# Generates the model once with baq-gen-scale-model (kept in --work, default
# out/scale-BxHxF), then runs, each under /usr/bin/time -v,
#   baq-opt model.mlirbc --baq-allocate="target-bits=2" --emit-bytecode
# and, when baq-opt has the pass, the same plus --baq-lower-nvvm. Prints a
# table: input size, wall time, peak RSS, RSS / input size, weights per
# second. Like every bench/ program it reports and never asserts on time.
#
# baq-opt runs under `ulimit -v` (default: input size + 80% of the memory
# available at start): a run that outgrows the machine fails with "out of
# memory" instead of waking the OOM killer on a shared box.
set -euo pipefail
cd "$(dirname "$0")/../.."

blocks=24 hidden=2048 ffn=8192 build=build baq_opt="" work="" regen=0
mem_limit_gb="" nvvm=1
while (($#)); do
  case "$1" in
  --blocks) blocks=$2; shift 2 ;;
  --hidden) hidden=$2; shift 2 ;;
  --ffn) ffn=$2; shift 2 ;;
  --build) build=$2; shift 2 ;;
  --baq-opt) baq_opt=$2; shift 2 ;;
  --work) work=$2; shift 2 ;;
  --regen) regen=1; shift ;;
  --mem-limit-gb) mem_limit_gb=$2; shift 2 ;;
  --no-nvvm) nvvm=0; shift ;;
  -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
baq_opt=${baq_opt:-$build/bin/baq-opt}
gen=$build/bin/baq-gen-scale-model
work=${work:-out/scale-${blocks}x${hidden}x${ffn}}
for tool in "$baq_opt" "$gen"; do
  [[ -x $tool ]] || { echo "run.sh: $tool not built (cmake --build $build --target baq-opt baq-gen-scale-model)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "run.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
mkdir -p "$work"
model=$work/model.mlirbc
weights=$((blocks * (4 * hidden * hidden + 3 * hidden * ffn)))

# "wall_seconds peak_kib" from a /usr/bin/time -v log.
time_stats() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
                               for (i = 1; i <= n; ++i) s = s * 60 + t[i] }
    /Maximum resident set size/ { rss = $2 }
    END { printf "%.1f %d\n", s, rss }' "$1"
}

if ((regen)) || [[ ! -s $model ]]; then
  echo "== generating $model ($blocks blocks, hidden $hidden, ffn $ffn)"
  # Blobs live in unlinked files next to the model, so the generator's 10+ GB
  # can be paged out instead of pinning anonymous memory.
  /usr/bin/time -v -o "$work/gen.time" "$gen" --blocks="$blocks" \
    --hidden="$hidden" --ffn="$ffn" --spill-dir="$work" -o "$model.tmp"
  mv "$model.tmp" "$model"
  read -r s kib < <(time_stats "$work/gen.time")
  echo "generator: ${s}s, peak RSS $((kib / 1024)) MiB"
fi
input_bytes=$(stat -c %s "$model")

if [[ -z $mem_limit_gb ]]; then
  avail_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
  limit_kib=$((input_bytes / 1024 + avail_kib * 8 / 10))
else
  limit_kib=$(awk -v g="$mem_limit_gb" 'BEGIN { printf "%d", g * 1048576 }')
fi

rows=()
run() { # name, extra baq-opt arguments...
  local name=$1; shift
  local log=$work/$name.log out=$work/$name.out.mlirbc rc=0
  echo "== $name: $baq_opt $model --baq-allocate=target-bits=2 $* --emit-bytecode"
  echo "   (progress: tail -f $log)"
  (ulimit -v "$limit_kib" && /usr/bin/time -v -o "$work/$name.time" \
    "$baq_opt" "$model" --baq-allocate="target-bits=2" "$@" \
    --emit-bytecode -o "$out") 2>"$log" || rc=$?
  grep -E '^baq-allocate \[|error|ERROR' "$log" | tail -n 3 >&2 || true
  local s kib status=ok
  read -r s kib < <(time_stats "$work/$name.time")
  ((rc == 0)) || status="failed (exit $rc, see $log)"
  rows+=("$(awk -v n="$name" -v in_b="$input_bytes" -v s="$s" -v kib="$kib" \
    -v w="$weights" -v st="$status" 'BEGIN {
      rss = kib * 1024
      printf "| %s | %.2f GB | %.1f s | %.2f GB | %.2f | %.3g | %s |",
             n, in_b / 1e9, s, rss / 1e9, rss / in_b, (s > 0 ? w / s : 0), st }')")
}

run allocate
# Not `--help | grep -q`: grep exits at the first match, baq-opt then dies of
# SIGPIPE and pipefail makes the test false.
if ((nvvm)) && grep -q -- '--baq-lower-nvvm' <<<"$("$baq_opt" --help)"; then
  run allocate+nvvm --baq-lower-nvvm
fi

echo
echo "model: $blocks blocks, hidden $hidden, ffn $ffn: $weights weights;" \
  "baq-opt under ulimit -v $((limit_kib / 1048576)) GiB"
echo "| run | input | wall | peak RSS | RSS / input | weights/s | status |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
