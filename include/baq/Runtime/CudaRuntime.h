/*===- CudaRuntime.h - baq's CUDA runtime for JIT-compiled modules -------===*\
|*                                                                            *|
|* libbaq_cuda_runtime implements the mgpu* C ABI that MLIR's gpu-to-llvm     *|
|* lowering calls (module load, launch, streams, events, memory) over the     *|
|* CUDA driver API, plus the functions below for drivers such as baq-run.     *|
|* Every CUDA error goes to the error handler, which by default prints        *|
|* "baq-cuda-runtime: error: <call>: <CUDA error name>" and exits with 1:     *|
|* the mgpu* functions have no way to return an error to generated code.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef BAQ_RUNTIME_CUDARUNTIME_H
#define BAQ_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Called with a one-line message on any CUDA error; must not return (the
/// runtime exits with 1 if it does).
typedef void (*BaqCudaErrorHandler)(const char *message);

/// Replaces the error handler (null: the default one).
void baqCudaSetErrorHandler(BaqCudaErrorHandler handler);

/// Initializes the driver and the primary context of the default device.
/// Returns 0 on success; otherwise 1 and writes a one-line reason, e.g.
/// "no CUDA driver/GPU available (cuInit: CUDA_ERROR_STUB_LIBRARY)", into
/// `message` (truncated to `size` bytes, NUL-terminated). Does not call the
/// error handler.
int baqCudaProbe(char *message, size_t size);

/// The default device, after a successful baqCudaProbe.
typedef struct BaqCudaDeviceInfo {
  char name[256];
  int major, minor; /* compute capability */
  int multiprocessors;
  size_t totalMemory;   /* bytes */
  double peakBandwidth; /* GB/s: 2 x memory clock x bus width, 0 if unknown */
} BaqCudaDeviceInfo;
int baqCudaDeviceInfo(BaqCudaDeviceInfo *info);

/// Waits for all work on the device.
void baqCudaSynchronize(void);

/// Bytes currently held by the allocation cache and by live allocations.
void baqCudaMemoryStats(size_t *live, size_t *cached);

#ifdef __cplusplus
}
#endif

#endif /* BAQ_RUNTIME_CUDARUNTIME_H */
