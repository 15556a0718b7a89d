// REQUIRES: cuda-runtime
// UNSUPPORTED: cuda-driver
// libbaq_cuda_runtime under the CUDA toolkit's stub libcuda (no driver, no GPU): the probe
// reports why, every call that needs the device exits 1 with the same one-line message
// (no abort, no crash), an installed error handler gets the message, and the calls that
// need no device work.
//
// RUN: env LD_LIBRARY_PATH=%cuda_stub_dir %python %S/Inputs/runtime_errors.py %cuda_runtime | FileCheck %s

// CHECK: probe: exit 0: probe 1 no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY) | probe-truncated 1 'no CUDA'
// CHECK: alloc: exit 1: baq-cuda-runtime: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: module-load-jit: exit 1: baq-cuda-runtime: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: module-load: exit 1: baq-cuda-runtime: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: stream-create: exit 1: baq-cuda-runtime: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: synchronize: exit 1: baq-cuda-runtime: error: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: handler: exit 3: handler: no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)
// CHECK: no-device-needed: exit 0: ok
