#!/usr/bin/env bash
# Builds the libFuzzer target fuzz/baq-fuzz.cpp in build-fuzz/ (clang-14,
# ASan + UBSan + coverage on our code; libMLIR.so stays uninstrumented) and
# runs it for SECONDS (default 300) from the seeds in fuzz/corpus.
#
#   scripts/fuzz.sh [SECONDS] [libFuzzer flags...]
#   scripts/fuzz.sh 0 build-fuzz/fuzz-run/artifacts/crash-*   # reproduce
#
# Needs clang and its runtimes: apt-get install -y clang-14 libclang-rt-14-dev.
# The run is in fork mode and keeps going after a crash, OOM or timeout; the
# inputs that caused them are in build-fuzz/fuzz-run/artifacts, the log in
# build-fuzz/fuzz-run/log. The seeds include minimized reproducers of known
# bugs (fuzz/corpus/crash-*), so a run reports those first.
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
cmake --build "$build" -j "${JOBS:-2}" --target baq-fuzz

# As in scripts/sanitize.sh: libMLIR.so is not instrumented, so user
# poisoning (BumpPtrAllocator) gives false positives, and LeakSanitizer
# reports MLIR's registries after every input (docs/RELIABILITY.md).
export ASAN_OPTIONS=${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ((seconds == 0)); then # reproduce the given inputs
  exec "$build/bin/baq-fuzz" "$@"
fi
# The seeds in the tree stay as they are; what the run learns goes to $build.
run=$build/fuzz-run
mkdir -p "$run/corpus" "$run/artifacts"
"$build/bin/baq-fuzz" "$run/corpus" fuzz/corpus \
  -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
  -max_total_time="$seconds" -max_len=8192 -timeout=30 -rss_limit_mb=2048 \
  -artifact_prefix="$run/artifacts/" -print_final_stats=1 "$@" 2>&1 |
  tee "$run/log"
