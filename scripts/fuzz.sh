#!/usr/bin/env bash
# Builds the libFuzzer targets in build-fuzz/ (clang-14, ASan + UBSan +
# coverage on our code; libMLIR.so stays uninstrumented) and runs each for
# SECONDS (default 300) from its seeds:
#   baq-fuzz              MLIR text or bytecode through the passes
#                         (fuzz/baq-fuzz.cpp, seeds in fuzz/corpus)
#   baq-fuzz-safetensors  safetensors side files, as --baq-attach-hessians
#                         reads them (fuzz/baq-fuzz-safetensors.cpp, seeds in
#                         fuzz/corpus-safetensors)
#
#   scripts/fuzz.sh [SECONDS] [libFuzzer flags...]
#   FUZZ_TARGETS=baq-fuzz-safetensors scripts/fuzz.sh 60      # one target
#   FUZZ_TARGETS=baq-fuzz scripts/fuzz.sh 0 build-fuzz/fuzz-run/artifacts/crash-*
#                                                    # reproduce (first target)
#
# Needs clang and its runtimes: apt-get install -y clang-14 libclang-rt-14-dev.
# The runs are in fork mode and keep going after a crash, OOM or timeout; the
# inputs that caused them are in build-fuzz/fuzz-run[-safetensors]/artifacts,
# the logs next to them. The seeds include minimized reproducers of known
# bugs (fuzz/corpus/crash-*, fuzz/corpus-safetensors/{deep,duplicate,...}),
# so a run reports those first if they come back.
# See docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
(($#)) && shift
build=${BUILD_DIR:-build-fuzz}
cc=${CC:-clang-14} cxx=${CXX:-clang++-14}
command -v "$cxx" >/dev/null || {
  echo "fuzz.sh: $cxx not found: apt-get install -y clang-14 libclang-rt-14-dev" >&2
  exit 1
}

if [[ ! -f $build/build.ninja ]]; then
  # See scripts/sanitize.sh for why LLVM_UBSAN_FLAGS must be spelled out.
  CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBAQ_ENABLE_FUZZER=ON \
    -DLLVM_USE_SANITIZE_COVERAGE=ON -DLLVM_USE_SANITIZER="Address;Undefined" \
    -DLLVM_UBSAN_FLAGS="-fsanitize=undefined -fno-sanitize=vptr,function -fno-sanitize-recover=all"
fi
read -r -a targets <<<"${FUZZ_TARGETS:-baq-fuzz baq-fuzz-safetensors}"
cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]}"

# As in scripts/sanitize.sh: libMLIR.so is not instrumented, so user
# poisoning (BumpPtrAllocator) gives false positives, and LeakSanitizer
# reports MLIR's registries after every input (docs/RELIABILITY.md).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ((seconds == 0)); then # reproduce the given inputs
  exec "$build/bin/${targets[0]}" "$@"
fi
# The seeds in the tree stay as they are; what a run learns goes to $build.
for target in "${targets[@]}"; do
  case $target in
    baq-fuzz) seeds=fuzz/corpus run=$build/fuzz-run ;;
    baq-fuzz-safetensors) seeds=fuzz/corpus-safetensors run=$build/fuzz-run-safetensors ;;
    *) echo "fuzz.sh: unknown target $target" >&2; exit 1 ;;
  esac
  mkdir -p "$run/corpus" "$run/artifacts"
  "$build/bin/$target" "$run/corpus" "$seeds" \
    -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
    -max_total_time="$seconds" -max_len=8192 -timeout=30 -rss_limit_mb=2048 \
    -artifact_prefix="$run/artifacts/" -print_final_stats=1 "$@" 2>&1 |
    tee "$run/log"
done
