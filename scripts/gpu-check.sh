#!/usr/bin/env bash
# The GPU checks of issue 20, one command for a machine with an NVIDIA GPU:
#
#   scripts/gpu-check.sh [--dry-run] [--no-build] [--quick] [--out DIR]
#
# GPU-free steps (always): build baq-opt, baq-run and libbaq_cuda_runtime;
# the runtime's exports cover every mgpu* call of a lowered whole model; the
# whole model lowers with --baq-lower-nvvm with no compute left on the host;
# ptxas (sm_80, sm_90) accepts its PTX; without a GPU, baq-run --device cuda
# fails with a clear message.
# GPU steps (when nvidia-smi sees a GPU, unless --dry-run): every kernel
# configuration (exact and unpack=half2, 1-8 bits, mixes, groups, K split,
# both kinds and orientations) run on the GPU against its reference; the
# stories260K greedy text and the quantized model's logits and perplexity
# through baq-run --device cuda against llama2.c's text and baq.eval;
# a synthetic model's logits on the GPU against the CPU's, and its decode
# GB/s against the GPU's peak bandwidth.
#
# --quick: the bandwidth model at dim 256 instead of 1024 (faster to quantize).
# Prints PASS/FAIL/SKIP per check as it goes, then a results table; exits 1
# if any check failed. Logs of every check are in the output directory.
# Environment: BAQ_BUILD (build directory, default build), BAQ_DATA_DIR
# (stories260K data, default ../shared/data), CUDA_HOME (/usr/local/cuda),
# BAQ_LLVM (/usr/lib/llvm-22).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

dry_run=0 build=1 quick=0 out=""
while (($#)); do
  case $1 in
  --dry-run) dry_run=1 ;;
  --no-build) build=0 ;;
  --quick) quick=1 ;;
  --out) out=$2; shift ;;
  -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "gpu-check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

bdir=$(realpath -m "${BAQ_BUILD:-build}")
llvm=${BAQ_LLVM:-/usr/lib/llvm-22}
cuda=${CUDA_HOME:-/usr/local/cuda}
# gpu-module-to-binary links libdevice (the kernels' expf, sqrtf) from here
# (a CUDA_HOME that does not exist is an error there).
if [[ -d $cuda ]]; then export CUDA_HOME=$cuda; else unset CUDA_HOME; fi
ptxas=$cuda/bin/ptxas
[[ -x $ptxas ]] || ptxas=$(command -v ptxas || echo "$ptxas")
data=${BAQ_DATA_DIR:-$(dirname "$repo")/shared/data}
out=${out:-$bdir/gpu-check}
mkdir -p "$out"
out=$(cd "$out" && pwd)
py=${BAQ_PYTHON:-/usr/bin/python3}
[[ -x $py ]] || py=$(command -v python3)
export PYTHONPATH=$repo/python${PYTHONPATH:+:$PYTHONPATH}

names=() results=() details=() times=()
failed=0
# check NAME DETAIL-FILE -- COMMAND...: runs COMMAND (output in NAME.log);
# PASS if it exits 0; the last line of DETAIL-FILE (if any) is the detail.
record() {
  names+=("$1") results+=("$2") details+=("$3") times+=("$4")
  [[ $2 == FAIL ]] && failed=1
  printf '%-4s %s%s\n' "$2" "$1" "${3:+ ($3)}"
}
check() {
  local name=$1; shift
  local log="$out/$name.log" start=$SECONDS detail=""
  if "$@" >"$log" 2>&1; then
    detail=$(grep -h '^detail: ' "$log" | tail -n 1 | sed 's/^detail: //')
    record "$name" PASS "$detail" $((SECONDS - start))
  else
    detail=$(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-160)
    record "$name" FAIL "$detail; log: $log" $((SECONDS - start))
  fi
}
skip() { record "$1" SKIP "$2" 0; }

bin=$bdir/bin
runtime=$bdir/lib/libbaq_cuda_runtime.so
runner="$llvm/bin/mlir-runner -e main -entry-point-result=void"
runner+=" -shared-libs=$runtime,$llvm/lib/libmlir_runner_utils.so,$llvm/lib/libmlir_c_runner_utils.so"
gen_case="$py $repo/test/Conversion/BaqToCPU/Inputs/gen_case.py"
ptxas_check="$py $repo/test/Conversion/BaqToNVVM/Inputs/ptxas_check.py"
check_model="$py $repo/test/Model/Inputs/check_model.py"

# --- The GPU? --------------------------------------------------------------
gpu=0
if ((dry_run)); then
  echo "gpu-check: --dry-run: GPU steps skipped"
elif ! command -v nvidia-smi >/dev/null; then
  echo "gpu-check: no nvidia-smi: GPU steps skipped (as --dry-run)"
elif ! nvidia-smi -L >"$out/nvidia-smi.txt" 2>&1; then
  record nvidia-smi FAIL "nvidia-smi -L failed: $(tail -n 1 "$out/nvidia-smi.txt")" 0
else
  gpu=1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory \
    --format=csv >>"$out/nvidia-smi.txt" 2>&1
  echo "gpu-check: $(head -n 1 "$out/nvidia-smi.txt")"
fi

# --- Build -----------------------------------------------------------------
do_build() {
  [[ -f $bdir/build.ninja ]] || cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release || return 1
  local targets=(baq-opt baq-run)
  # The runtime exists only where CMake found a CUDA toolkit.
  ninja -C "$bdir" -t targets all | grep -q '^baq_cuda_runtime:' && targets+=(baq_cuda_runtime)
  ninja -C "$bdir" "${targets[@]}"
}
if ((build)); then check build do_build; fi
for f in "$bin/baq-opt" "$bin/baq-run"; do
  [[ -x $f ]] || { record build FAIL "$f missing" 0; break; }
done
have_runtime=0
[[ -f $runtime ]] && have_runtime=1

# --- GPU-free: the whole model through --baq-lower-nvvm ----------------------
model=$out/synthetic.mlir
prepare_model() {
  $py -m baq.export_model --emit synthetic --prefill 32 --synthetic-tokenizer "$out/tok.bin" \
    -q -o "$out/synthetic.fp32.mlir" &&
    "$bin/baq-opt" "$out/synthetic.fp32.mlir" \
      --baq-allocate="target-bits=3 progress=false" -o "$model"
}
check model-export prepare_model

lower_model() {
  for chip in sm_80 sm_90; do
    "$bin/baq-opt" "$model" --baq-lower-nvvm="chip=$chip" -o "$out/synthetic.$chip.nvvm.mlir" &&
      "$bin/baq-opt" "$out/synthetic.$chip.nvvm.mlir" --gpu-module-to-binary=format=isa \
        -o "$out/synthetic.$chip.ptx.mlir" || return 1
  done
  # Host code only launches: no float arithmetic, loads of data or loops in
  # the host functions (an i64 load reads a dynamic size, the attention's
  # pos + T rows, from a memref descriptor; test/Model/nvvm.mlir checks the
  # same in lit).
  $py - "$out/synthetic.sm_80.nvvm.mlir" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
funcs = re.findall(r"llvm\.func @(forward|prefill)\((.*?)\n  \}\n", text, re.S)
assert len(funcs) == 2, f"expected @forward and @prefill, found {len(funcs)}"
bad = re.compile(r"llvm\.(fadd|fsub|fmul|fdiv|frem|fneg|fcmp|cond_br|br)\b|"
                 r"llvm\.intr\.(exp|sqrt|maximum|minimum|fma)|"
                 r"llvm\.load [^\n]*-> (f16|bf16|f32|i8|i32|vector)")
for name, body in funcs:
    found = sorted(set(m.group(0).strip() for m in bad.finditer(body)))
    assert not found, f"@{name} computes on the host: {found}"
launches = sum(len(re.findall(r"gpu\.launch_func", body)) for _, body in funcs)
print(f"detail: {launches} launches, no host compute")
EOF
}
check lower-whole-model lower_model

if [[ -x $ptxas ]]; then
  ptxas_model() {
    for chip in sm_80 sm_90; do
      $ptxas_check --ptxas "$ptxas" --arch "$chip" "$out/synthetic.$chip.ptx.mlir" \
        >"$out/ptxas-$chip.txt" || { cat "$out/ptxas-$chip.txt"; return 1; }
      if grep -q "error\|spill_stores=[1-9]\|spill_loads=[1-9]" "$out/ptxas-$chip.txt"; then
        cat "$out/ptxas-$chip.txt"
        return 1
      fi
    done
    echo "detail: $(grep -c ': ok' "$out/ptxas-sm_90.txt") kernels, sm_80 and sm_90, no spills"
  }
  check ptxas-whole-model ptxas_model
else
  skip ptxas-whole-model "no ptxas ($ptxas)"
fi

if ((have_runtime)); then
  runtime_symbols() {
    "$llvm/bin/mlir-translate" --mlir-to-llvmir "$out/synthetic.sm_80.ptx.mlir" \
      -o "$out/synthetic.ll" &&
      $py "$repo/test/Cuda/Inputs/check_symbols.py" --ir "$out/synthetic.ll" \
        --lib "$runtime" --nm "$llvm/bin/llvm-nm"
  }
  check runtime-symbols runtime_symbols
else
  skip runtime-symbols "no $runtime (CUDA toolkit not found at configure time)"
fi

# Without a GPU, the stub's or the loader's message, not a crash.
if ((!gpu && have_runtime)); then
  no_gpu_message() {
    ! "$bin/baq-run" "$model" --tokenizer "$out/tok.bin" --device cuda --cuda-runtime "$runtime" \
      --steps 2 >"$out/no-gpu.txt" 2>&1 || return 1
    cat "$out/no-gpu.txt"
    grep -q "baq-run: error: no CUDA driver/GPU available" "$out/no-gpu.txt"
  }
  check baq-run-no-gpu no_gpu_message
fi

# --- GPU: every kernel configuration against its reference -------------------
# gen_case.py writes a self-checking module (PASS/FAIL against numpy); the
# same cases as test/Conversion/GpuOnCpu and BaqToCPU/half2.mlir.
cases=()
for b in 1 2 3 4 5 6 7 8; do
  cases+=("exact-bits$b|--bits $b --m 37 --n 70 --rows 2|")
  cases+=("exact-bits$b-kn-ksplit3|--bits $b --m 37 --n 70 --rows 2 --orientation kn|k-split=3")
  cases+=("half2-bits$b|--bits $b --m 37 --n 300 --rows 2 --half2-bound 32|unpack=half2")
  cases+=("half2-emulated-bits$b|--bits $b --m 37 --n 300 --rows 2 --half2-emulate|unpack=half2 k-split=1 unroll=1")
done
cases+=(
  "exact-mixed-groups64-ksplit3|--bits mixed --m 45 --n 300 --rows 3 --group-size 64|k-split=3"
  "exact-mixed-groups48-kn-ksplit5|--bits mixed --m 45 --n 300 --rows 3 --group-size 48 --orientation kn|k-split=5"
  "exact-mixed-f32grid|--bits mixed --m 45 --n 300 --rows 5 --grid-type f32 --grid-edges|"
  "exact-mixed-f16act-kn|--bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn|k-split=2"
  "exact-mixed-avg2|--bits mixed --avg 2 --m 64 --n 512 --rows 8 --seed 4|"
  "exact-mixed-convert|--bits mixed --m 45 --n 300 --rows 2|rows-per-thread=8 accumulators=3 unroll=2 unpack=convert"
  "exact-mixed-1024|--bits mixed --avg 2.5 --m 1024 --n 1024 --rows 1|"
  "tiled-mixed|--bits mixed --m 45 --n 300 --rows 21 --ref-weight-dtype f16|"
  "tiled-mixed-kn-groups32|--bits mixed --m 45 --n 300 --rows 19 --orientation kn --group-size 32|tile-rows=3 dequant-type=f32"
  "tiled-f16act|--bits mixed --m 45 --n 300 --rows 3 --dtype f16 --orientation kn|decode-max-rows=0 dequant-type=f32"
  "tiled-mixed-32rows-1024|--bits mixed --avg 2.5 --m 1024 --n 1024 --rows 32 --ref-weight-dtype f16|"
  "dequantize-groups64|--what dequantize --bits mixed --m 45 --n 300 --orientation kn --group-size 64|"
  "half2-mixed-avg2|--bits mixed --avg 2 --m 64 --n 512 --rows 1 --half2-bound 32|unpack=half2"
  "half2-mixed-groups48-kn-ksplit3|--bits mixed --m 37 --n 400 --rows 1 --group-size 48 --orientation kn --half2-bound 32|unpack=half2 k-split=3"
  "half2-mixed-f16act|--bits mixed --avg 3 --m 40 --n 256 --rows 3 --dtype f16 --half2-bound 32|unpack=half2"
)
run_case() { # gen-args lower-options [run]
  local dir=$out/kernels
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  $gen_case $1 >"$dir/case.mlir" &&
    "$bin/baq-opt" "$dir/case.mlir" --baq-lower-nvvm="chip=sm_80 $2" |
    "$bin/baq-opt" --gpu-module-to-binary=format=isa -o "$dir/case.ptx.mlir" || return 1
  [[ ${3:-} == run ]] || return 0
  $runner "$dir/case.ptx.mlir" >"$dir/case.out" || { cat "$dir/case.out"; return 1; }
  cat "$dir/case.out"
  grep -q '^PASS' "$dir/case.out" &&
    echo "detail: $(grep -A1 'relative error' "$dir/case.out" | head -n 2 | tr '\n' ' ')"
}
if ((gpu && have_runtime)); then
  for c in "${cases[@]}"; do
    IFS='|' read -r name args opts <<<"$c"
    check "kernel-$name" run_case "$args" "$opts" run
  done
else
  # GPU-free: two of the cases lower (exact and half2; all of them run on a GPU).
  for c in "${cases[@]}"; do
    IFS='|' read -r name args opts <<<"$c"
    [[ $name == exact-mixed-groups64-ksplit3 || $name == half2-bits5 ]] || continue
    check "lower-kernel-$name" run_case "$args" "$opts"
  done
  skip kernels-on-gpu "no GPU: ${#cases[@]} kernel configurations not run"
fi

# --- GPU: whole models through baq-run --device cuda -------------------------
stories_ok=0
[[ -f $data/stories260K.bin && -f $data/tok512.bin ]] && stories_ok=1
if ((gpu && have_runtime && stories_ok)); then
  prompt="Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball."
  stories_greedy() {
    $py -m baq.export_model --checkpoint "$data/stories260K.bin" --no-hessian -q \
      -o "$out/stories.fp32.mlir" &&
      "$bin/baq-run" "$out/stories.fp32.mlir" --tokenizer "$data/tok512.bin" --steps 200 \
        --device cuda --cuda-runtime "$runtime" --progress --timing >"$out/stories.gen" &&
      grep -v '^#' "$data/stories260K-greedy-reference.txt" >"$out/stories.ref" &&
      diff "$out/stories.ref" "$out/stories.gen" &&
      echo "detail: 200 steps = llama2.c's text byte for byte"
  }
  check stories260k-greedy-cuda stories_greedy
  stories_quantized() {
    $py -m baq.export_model --checkpoint "$data/stories260K.bin" --tokenizer "$data/tok512.bin" \
      --calib "$data/tinystories-calib.txt" --windows 8 -q -o "$out/stories.h.mlir" &&
      "$bin/baq-opt" "$out/stories.h.mlir" \
        --baq-allocate="target-bits=2.47 budget=total progress=false" -o "$out/stories.q.mlir" &&
      head -n 24 "$data/tinystories-dev.txt" >"$out/dev.txt" &&
      "$bin/baq-run" "$out/stories.q.mlir" --tokenizer "$data/tok512.bin" --prompt "$prompt" \
        --device cuda --cuda-runtime "$runtime" --dump-logits "$out/stories.logits" --perplexity "$out/dev.txt" \
        --window-len 64 --timing >"$out/stories.ppl" &&
      $check_model logits "$data/stories260K.bin" "$data/tok512.bin" "$out/stories.q.mlir" \
        "$prompt" "$out/stories.logits" &&
      $check_model perplexity "$data/stories260K.bin" "$data/tok512.bin" "$out/stories.q.mlir" \
        "$out/dev.txt" 64 "$out/stories.ppl" &&
      echo "detail: $(head -n 1 "$out/stories.ppl" | cut -d' ' -f1-2) = baq.eval; logits within 1e-4"
  }
  check stories260k-quantized-cuda stories_quantized
else
  skip stories260k-cuda "$( ((stories_ok)) && echo "no GPU" || echo "no stories260K data in $data")"
fi

# A synthetic decoder (random weights, dim 1024 x 8 layers as bench/model):
# logits GPU vs CPU, then decode GB/s = parameter bytes x tokens/s.
if ((gpu && have_runtime)); then
  dim=1024
  ((quick)) && dim=256
  synthetic_bandwidth() {
    $py "$repo/scripts/gpu_check_model.py" --dim $dim --layers 8 --out "$out/bw" --baq-opt "$bin/baq-opt" || return 1
    local m=$out/bw/model.q.mlir tok=$out/bw/tok.bin
    # @forward only (--no-prefill): half the compile time on either device.
    "$bin/baq-run" "$m" --tokenizer "$tok" --prompt "the cat and a dog" --steps 1 \
      --no-prefill --progress --dump-logits "$out/bw/cpu.logits" >/dev/null &&
      "$bin/baq-run" "$m" --tokenizer "$tok" --prompt "the cat and a dog" --steps 1 \
        --no-prefill --device cuda --cuda-runtime "$runtime" --progress \
        --dump-logits "$out/bw/gpu.logits" >/dev/null &&
      "$bin/baq-run" "$m" --tokenizer "$tok" --no-prefill --device cuda \
        --cuda-runtime "$runtime" --steps 256 --timing --progress \
        >/dev/null 2>"$out/bw/timing.txt" || return 1
    cat "$out/bw/timing.txt"
    $py - "$out/bw" <<'EOF'
import re, sys
import numpy as np
d = sys.argv[1]
cpu, gpu = (np.fromfile(f"{d}/{n}.logits", dtype=np.float32) for n in ("cpu", "gpu"))
err = float(np.max(np.abs(cpu - gpu)) / np.max(np.abs(cpu)))
t = open(f"{d}/timing.txt").read()
peak = float(re.search(r"peak (\d+) GB/s", t).group(1))
mb = float(re.search(r"parameters ([\d.]+) MB", t).group(1))
tok_s = float(re.search(r"decode \d+ tokens in [\d.]+ s, cpu [\d.]+ s \(([\d.]+) tok/s\)", t).group(1))
gbs = mb * tok_s / 1e3
print(f"logits GPU vs CPU: max error {err:.2e} of the largest logit")
print(f"detail: decode {tok_s:.1f} tok/s x {mb:.1f} MB = {gbs:.1f} GB/s, "
      f"{100 * gbs / peak:.2f} % of {peak:.0f} GB/s; logits vs CPU {err:.1e}")
sys.exit(0 if err <= 1e-3 else 1)
EOF
  }
  check synthetic-d$dim-cuda synthetic_bandwidth
else
  skip synthetic-decode-bandwidth "no GPU"
fi

# --- Results -----------------------------------------------------------------
echo
echo "gpu-check results ($(date -u '+%Y-%m-%d %H:%M UTC'); $( ((gpu)) && head -n 1 "$out/nvidia-smi.txt" || echo "no GPU"))"
printf '| %-44s | %-6s | %5s | %s\n' check result s detail
printf '|%s|%s|%s|%s\n' "$(printf -- '-%.0s' {1..46})" "--------" "-------" "--------"
pass=0 fail=0 skipn=0
for i in "${!names[@]}"; do
  printf '| %-44s | %-6s | %5s | %s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}" "${details[$i]}"
  case ${results[$i]} in PASS) ((pass++)) ;; FAIL) ((fail++)) ;; *) ((skipn++)) ;; esac
done
echo "gpu-check: $pass passed, $fail failed, $skipn skipped (logs in $out)"
exit $failed
