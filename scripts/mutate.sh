#!/usr/bin/env bash
# Mutation check: plants each listed one-line bug in the source, one at a
# time, rebuilds incrementally, runs the tests that should notice, and prints
# caught/MISSED per mutant and a total. Exit status 0 only if every mutant is
# caught. The source is restored after each mutant and on any exit (trap).
# First, every test set the selected mutants use must pass unmutated.
#
#   scripts/mutate.sh [-l] [NAME_SUBSTRING...]   (-l: list the mutants)
#
# BUILD (default: build) is an already configured build directory. Mutants of
# one file are adjacent so that restoring and mutating it costs one compile;
# ccache makes the restores (and reruns) cheap.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LIT=${LIT:-/usr/lib/llvm-22/bin/lit}
PYTHON=${PYTHON:-/usr/bin/python3}
JOBS=${JOBS:-2}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$ROOT")}

LIST=0
FILTERS=()
for arg in "$@"; do
  case "$arg" in
    -l) LIST=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) FILTERS+=("$arg") ;;
  esac
done

BACKUP=""
TARGET=""
restore() {
  if [[ -n "$BACKUP" ]]; then
    cp "$BACKUP" "$TARGET"
    rm -f "$BACKUP"
    BACKUP=""
  fi
}
trap 'restore' EXIT
trap 'restore; exit 130' INT TERM

CAUGHT=0
MISSED=0
BROKEN=0
RESULTS=()
BUILT_TARGETS=()
BASELINE=()
COLLECT=0
BUILD_LOG=/tmp/mutate-build.$$.log

# run_test SPEC: 0 if the test passes.
run_test() {
  local t=$1
  case "$t" in
    lit:*)
      "$LIT" -q "$BUILD/test/${t#lit:}" >/dev/null 2>&1 ;;
    gtest:*)
      local spec=${t#gtest:}
      "$BUILD/unittests/${spec%%:*}" --gtest_filter="${spec#*:}" >/dev/null 2>&1 ;;
    pytest:*)
      (cd "$ROOT" && PYTHONPATH=python "$PYTHON" -m pytest -q -x "python/tests/${t#pytest:}" >/dev/null 2>&1) ;;
  esac
}

# build_for SPEC...: builds what the tests need (lit: baq-opt, gtest: unit tests).
build_for() {
  local targets=() t
  for t in "$@"; do
    case "$t" in
      lit:*) targets+=(baq-opt) ;;
      gtest:*) targets+=(BAQUnitTests) ;;
    esac
  done
  ((${#targets[@]})) || return 0
  mapfile -t targets < <(printf '%s\n' "${targets[@]}" | sort -u)
  BUILT_TARGETS+=("${targets[@]}")
  cmake --build "$BUILD" -j"$JOBS" --target "${targets[@]}" >"$BUILD_LOG" 2>&1
}

# mutant NAME FILE FROM TO TEST...
#   FROM must occur exactly once in FILE; TO replaces it.
#   TEST: lit:PATH (under test/ or unittests/), gtest:BINARY:FILTER (under
#   the build's unittests/), pytest:PATH (under python/tests/).
mutant() {
  local name=$1 file=$2 from=$3 to=$4
  shift 4
  if ((${#FILTERS[@]})); then
    local f match=0
    for f in "${FILTERS[@]}"; do [[ "$name" == *"$f"* ]] && match=1; done
    ((match)) || return 0
  fi
  if ((LIST)); then
    printf '%-32s %s: %s\n' "$name" "$file" "$to"
    return 0
  fi
  if ((COLLECT)); then
    BASELINE+=("$@")
    return 0
  fi

  TARGET=$ROOT/$file
  BACKUP=$(mktemp)
  cp "$TARGET" "$BACKUP"
  if ! "$PYTHON" - "$TARGET" "$from" "$to" <<'EOF'; then
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"mutate.sh: {old!r} occurs {text.count(old)} times in {path}")
open(path, "w").write(text.replace(old, new))
EOF
    restore
    RESULTS+=("STALE   $name (the source changed: update the mutant)")
    echo "${RESULTS[-1]}"
    BROKEN=$((BROKEN + 1))
    return 0
  fi

  local tests=("$@") t
  if ! build_for "${tests[@]}"; then
    restore
    RESULTS+=("BROKEN  $name (does not build: see $BUILD_LOG)")
    echo "${RESULTS[-1]}"
    BROKEN=$((BROKEN + 1))
    return 0
  fi

  local failed=0 why=""
  for t in "${tests[@]}"; do
    run_test "$t" || { failed=1; why+=" $t"; }
  done
  restore
  if ((failed)); then
    RESULTS+=("caught  $name  by$why")
    CAUGHT=$((CAUGHT + 1))
  else
    RESULTS+=("MISSED  $name")
    MISSED=$((MISSED + 1))
  fi
  echo "${RESULTS[-1]}"
}

NUM=Numerics/BAQNumericsTests

mutants() {

# --- baq-kernels-to-gpu: the mapping the NVVM kernels get (issue 14) --------
mutant k2g-block-ids-xy-swapped lib/Conversion/BaqToNVVM/KernelsToGpu.cpp \
  'Value ids[3] = {blockIds.x, blockIds.y, blockIds.z};' \
  'Value ids[3] = {blockIds.y, blockIds.x, blockIds.z};' \
  lit:Conversion/GpuOnCpu
mutant k2g-thread-guard-ule lib/Conversion/BaqToNVVM/KernelsToGpu.cpp \
  'arith::CmpIPredicate::ult,' 'arith::CmpIPredicate::ule,' \
  lit:Conversion/GpuOnCpu

# --- kernel builder ---------------------------------------------------------
mutant kernels-last-block-dropped lib/Conversion/BaqToKernels/Nest.cpp \
  'int64_t blocks = ceilDiv(items, t);' 'int64_t blocks = items / t;' \
  lit:Conversion/GpuOnCpu/bitwidths.mlir
mutant kernels-zero-point-half-steps lib/Dialect/Baq/IR/GridBuilder.cpp \
  'Value magic = createF32Constant(b, loc, type, 8388608.0f);' \
  'Value magic = createF32Constant(b, loc, type, 4194304.0f);' \
  lit:Conversion/BaqToCPU/fixed.mlir lit:Conversion/GpuOnCpu/kernels.mlir
mutant kernels-magic-unpack-off-by-one lib/Conversion/BaqToKernels/Unpack.cpp \
  'return arith::SubFOp::create(nb, nl, f, e.splatF32(8388608.0f));' \
  'return arith::SubFOp::create(nb, nl, f, e.splatF32(8388607.0f));' \
  lit:Conversion/GpuOnCpu/bitwidths.mlir

# --- verifier ---------------------------------------------------------------
mutant verifier-zero-bytes-unchecked lib/Dialect/Baq/IR/BaqDialect.cpp \
  'if (scaleBytes != expectedScales || zeroBytes != expectedZeros)' \
  'if (scaleBytes != expectedScales)' \
  lit:Dialect
mutant verifier-zero-bytes-scale-width lib/Dialect/Baq/IR/BaqDialect.cpp \
  'llvm::MulOverflow<int64_t>(groups, byteWidth(zeroType), expectedZeros)' \
  'llvm::MulOverflow<int64_t>(groups, byteWidth(scaleType), expectedZeros)' \
  lit:Dialect
mutant verifier-payload-one-row lib/Dialect/Baq/IR/BaqDialect.cpp \
  'llvm::MulOverflow<int64_t>(4, l.payloadWords, expectedPayload)' \
  'llvm::MulOverflow<int64_t>(4, 1, expectedPayload)' \
  lit:Dialect

# --- untrusted inputs: exact edges (issue 22, class 7) ------------------------
ST=lib/Dialect/Baq/Transforms/Safetensors.cpp
STT=(gtest:Transforms/BAQTransformsTests:Safetensors.* lit:Reliability/safetensors-headers.mlir)
mutant safetensors-header-size-loose "$ST" \
  'if (headerSize > data.size() - 8)' 'if (headerSize > data.size() - 8 + 4)' \
  "${STT[@]}"
mutant safetensors-header-limit-off-by-one "$ST" \
  'if (headerSize > maxHeaderSize)' 'if (headerSize >= maxHeaderSize)' \
  "${STT[@]}"
mutant safetensors-depth-plus-one "$ST" \
  'if (open.size() == kSafetensorsMaxHeaderDepth) {' \
  'if (open.size() == kSafetensorsMaxHeaderDepth + 1) {' \
  "${STT[@]}"
mutant safetensors-duplicates-ignored "$ST" \
  'if (inserted)' 'if (true)' \
  "${STT[@]}"
mutant safetensors-elements-wrap "$ST" \
  'tooLarge |= llvm::MulOverflow(elements, d, elements);' \
  'elements = int64_t(uint64_t(elements) * uint64_t(d));' \
  "${STT[@]}"
mutant safetensors-rejects-empty-tensors "$ST" \
  'if (*begin > *end)' 'if (*begin >= *end)' \
  "${STT[@]}"
mutant safetensors-rejects-end-of-file "$ST" \
  'if (*end > dataSize)' 'if (*end >= dataSize)' \
  "${STT[@]}"
mutant safetensors-data-bound-loose "$ST" \
  'if (*end > dataSize)' 'if (*end > dataSize + 1)' \
  "${STT[@]}"
mutant verifier-packed-matmul-encoding lib/Dialect/Baq/IR/BaqDialect.cpp \
  'return type.getRank() == 2 && !type.getEncoding() &&' \
  'return type.getRank() == 2 &&' \
  lit:Dialect/Baq/invalid.mlir
PAR=lit:Conversion/BaqToCPU/kernels-to-parallel-estimate.mlir
mutant parallel-trips-rounded-down lib/Conversion/BaqToCPU/KernelsToParallel.cpp \
  '(*ub - *lb + *step - 1) / *step' '(*ub - *lb) / *step' "$PAR"
mutant parallel-trips-rounded-up-always lib/Conversion/BaqToCPU/KernelsToParallel.cpp \
  '(*ub - *lb + *step - 1) / *step' '(*ub - *lb + *step) / *step' "$PAR"
mutant parallel-trips-from-zero lib/Conversion/BaqToCPU/KernelsToParallel.cpp \
  '(*ub - *lb + *step - 1) / *step' '(*ub + *step - 1) / *step' "$PAR"

# --- weight access, --baq-expand ----------------------------------------------
mutant read-nm-weight-reshaped lib/Dialect/Baq/Transforms/WeightAccess.cpp \
  'w[i * c.inputs + j] = (*raw)[j * c.outputs + i];' \
  'w[i * c.inputs + j] = (*raw)[i * c.inputs + j];' \
  lit:Conversion/BaqToCPU/original-weights.mlir
mutant expand-zero-point-half-away lib/Dialect/Baq/IR/GridBuilder.cpp \
  'math::RoundEvenOp::create(b, loc, ratio)' 'math::RoundOp::create(b, loc, ratio)' \
  lit:Conversion/BaqToCPU/rtn-ties.mlir

# --- numerics: RTN, GPTQ, packing -------------------------------------------
mutant rtn-rounds-down include/baq/Format/Grid.h \
  'float q = std::nearbyint(value / step) + zeroPoint;' \
  'float q = std::floor(value / step) + zeroPoint;' \
  "gtest:$NUM:GptqTest.Rtn*" lit:Conversion/BaqToCPU/rtn-ties.mlir
mutant rtn-ties-away-from-zero include/baq/Format/Grid.h \
  'float q = std::nearbyint(value / step) + zeroPoint;' \
  'float q = std::round(value / step) + zeroPoint;' \
  "gtest:$NUM:GptqTest.Rtn*" lit:Conversion/BaqToCPU/rtn-ties.mlir
mutant gptq-feedback-sign lib/Numerics/Gptq.cpp \
  'static_cast<int>(count - c - 1), lm, -1.0f,' \
  'static_cast<int>(count - c - 1), lm, 1.0f,' \
  "gtest:$NUM:*GptqUniformTest*:GptqTest.MixedBits*"
mutant pack-tail-straddle lib/Format/PackedFormat.cpp \
  'words[a / 32 + 1] |= static_cast<uint32_t>(v >> 32);' \
  'words[a / 32 + 1] |= static_cast<uint32_t>(v >> 31);' \
  "gtest:$NUM:Packing*" lit:Conversion/BaqToCPU/original-weights.mlir

# --- Python reader (no build) -------------------------------------------------
mutant reader-zero-point-half-up python/baq/packed.py \
  'np.clip(np.round(-zeros[:, grp] / step), 0,' \
  'np.clip(np.floor(-zeros[:, grp] / step + 0.5), 0,' \
  pytest:test_packed.py
mutant reader-rows-not-interleaved python/baq/packed.py \
  'main = ((t // 32) * M + rows[None, :]) * 32 + t % 32' \
  'main = ((t // 32) + rows[None, :] * F) * 32 + t % 32' \
  pytest:test_packed.py
mutant reader-levels-off-by-one python/baq/packed.py \
  'levels = (np.left_shift(1, b) - 1).astype(np.float32)' \
  'levels = (np.left_shift(1, b)).astype(np.float32)' \
  pytest:test_packed.py
}

if ((LIST)); then
  mutants
  exit 0
fi

# Baseline: every test the selected mutants use must pass on the unmutated
# source, or "caught" would mean nothing.
COLLECT=1
mutants
COLLECT=0
mapfile -t BASELINE < <(printf '%s\n' "${BASELINE[@]}" | sort -u)
if ! build_for "${BASELINE[@]}"; then
  echo "mutate.sh: the unmutated source does not build (see $BUILD_LOG)" >&2
  exit 2
fi
for t in "${BASELINE[@]}"; do
  if ! run_test "$t"; then
    echo "mutate.sh: $t fails without any mutant; fix it first" >&2
    exit 2
  fi
done
echo "baseline: ${#BASELINE[@]} test sets pass unmutated"

mutants


# Leave the build matching the restored source.
if ((${#BUILT_TARGETS[@]})); then
  mapfile -t BUILT_TARGETS < <(printf '%s\n' "${BUILT_TARGETS[@]}" | sort -u)
  cmake --build "$BUILD" -j"$JOBS" --target "${BUILT_TARGETS[@]}" >/dev/null 2>&1 ||
    echo "mutate.sh: rebuilding the restored source failed" >&2
fi

echo
echo "== mutation summary"
printf '%s\n' "${RESULTS[@]}"
TOTAL=$((CAUGHT + MISSED + BROKEN))
echo "caught $CAUGHT of $TOTAL mutants ($MISSED missed, $BROKEN stale or not building)"
((MISSED == 0 && BROKEN == 0))
