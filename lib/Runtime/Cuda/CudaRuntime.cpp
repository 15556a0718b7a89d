//===- CudaRuntime.cpp - The mgpu* C ABI over the CUDA driver API ---------===//
//
// What MLIR's gpu-to-llvm lowering calls (see include/baq/Runtime/
// CudaRuntime.h), for modules JIT-compiled by baq-run --device cuda or
// mlir-runner. Debian's MLIR ships no CUDA runtime library; this is the
// project's own, linked against the CUDA toolkit's libcuda (the stub where
// there is no driver). Two choices differ from upstream's wrappers:
//  - errors are reported by name (also under the stub, whose cuGetErrorName
//    fails) through a handler that exits, instead of printed and ignored;
//  - the code lowered from synchronous gpu.launch_func creates, synchronizes
//    and destroys a stream around every launch: mgpuStreamCreate hands out
//    one long-lived stream instead (work on it stays ordered, which is all
//    that synchronous launches need), and freed buffers are kept for reuse,
//    since every decode step allocates the same intermediate sizes again.
//
//===----------------------------------------------------------------------===//

#include "baq/Runtime/CudaRuntime.h"

#include <cuda.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#define BAQ_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

BaqCudaErrorHandler errorHandler = nullptr;

[[noreturn]] void report(const std::string &message) {
  if (errorHandler)
    errorHandler(message.c_str());
  std::fprintf(stderr, "baq-cuda-runtime: error: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(1);
}

/// The error's name; the stub library's cuGetErrorName fails, so the common
/// ones are also spelled here.
std::string errorName(CUresult result) {
  const char *name = nullptr;
  if (cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
    return name;
  switch (result) {
#define BAQ_CASE(x)                                                            \
  case x:                                                                      \
    return #x;
    BAQ_CASE(CUDA_ERROR_INVALID_VALUE)
    BAQ_CASE(CUDA_ERROR_OUT_OF_MEMORY)
    BAQ_CASE(CUDA_ERROR_NOT_INITIALIZED)
    BAQ_CASE(CUDA_ERROR_DEINITIALIZED)
    BAQ_CASE(CUDA_ERROR_STUB_LIBRARY)
    BAQ_CASE(CUDA_ERROR_NO_DEVICE)
    BAQ_CASE(CUDA_ERROR_INVALID_DEVICE)
    BAQ_CASE(CUDA_ERROR_INVALID_IMAGE)
    BAQ_CASE(CUDA_ERROR_INVALID_CONTEXT)
    BAQ_CASE(CUDA_ERROR_NO_BINARY_FOR_GPU)
    BAQ_CASE(CUDA_ERROR_INVALID_PTX)
    BAQ_CASE(CUDA_ERROR_JIT_COMPILER_NOT_FOUND)
    BAQ_CASE(CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
    BAQ_CASE(CUDA_ERROR_NOT_FOUND)
    BAQ_CASE(CUDA_ERROR_ILLEGAL_ADDRESS)
    BAQ_CASE(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES)
    BAQ_CASE(CUDA_ERROR_LAUNCH_FAILED)
    BAQ_CASE(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH)
    BAQ_CASE(CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE)
#undef BAQ_CASE
  default:
    return "CUresult " + std::to_string(static_cast<int>(result));
  }
}

void check(CUresult result, const char *call, const std::string &detail = "") {
  if (result == CUDA_SUCCESS)
    return;
  report(std::string(call) + ": " + errorName(result) + detail);
}

/// The default device's primary context, created on first use.
struct Device {
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::string failure; // empty: initialized
};

int32_t defaultDevice = 0;
std::once_flag initOnce;
Device state;

const Device &initialize() {
  std::call_once(initOnce, [] {
    auto fail = [](const char *call, CUresult r) {
      state.failure = "no CUDA driver/GPU available (" + std::string(call) +
                      ": " + errorName(r) + ")";
    };
    if (CUresult r = cuInit(0))
      return fail("cuInit", r);
    int count = 0;
    if (CUresult r = cuDeviceGetCount(&count))
      return fail("cuDeviceGetCount", r);
    if (count == 0) {
      state.failure = "no CUDA driver/GPU available (cuDeviceGetCount: 0 "
                      "devices)";
      return;
    }
    if (defaultDevice < 0 || defaultDevice >= count) {
      state.failure = "CUDA device " + std::to_string(defaultDevice) +
                      " does not exist (" + std::to_string(count) + " devices)";
      return;
    }
    if (CUresult r = cuDeviceGet(&state.device, defaultDevice))
      return fail("cuDeviceGet", r);
    if (CUresult r = cuDevicePrimaryCtxRetain(&state.context, state.device))
      return fail("cuDevicePrimaryCtxRetain", r);
    if (CUresult r = cuCtxSetCurrent(state.context))
      return fail("cuCtxSetCurrent", r);
    if (CUresult r = cuStreamCreate(&state.stream, CU_STREAM_NON_BLOCKING))
      return fail("cuStreamCreate", r);
  });
  return state;
}

/// Initializes (reporting failure) and makes the context current on this
/// thread.
const Device &device() {
  const Device &d = initialize();
  if (!d.failure.empty())
    report(d.failure);
  thread_local bool current = false;
  if (!current) {
    check(cuCtxSetCurrent(d.context), "cuCtxSetCurrent");
    current = true;
  }
  return d;
}

/// Freed buffers by (rounded size, managed), for reuse; bounded by
/// kCacheLimit bytes (BAQ_CUDA_CACHE=0 turns the cache off).
class Allocator {
public:
  void *allocate(uint64_t size, bool managed) {
    if (size == 0)
      return nullptr;
    size = (size + 255) / 256 * 256;
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<CUdeviceptr> &free = cache[{size, managed}];
    CUdeviceptr ptr;
    if (!free.empty()) {
      ptr = free.back();
      free.pop_back();
      cached -= size;
    } else {
      device();
      CUresult r = managed ? cuMemAllocManaged(&ptr, size, CU_MEM_ATTACH_GLOBAL)
                           : cuMemAlloc(&ptr, size);
      if (r == CUDA_ERROR_OUT_OF_MEMORY && cached) {
        releaseCache();
        r = managed ? cuMemAllocManaged(&ptr, size, CU_MEM_ATTACH_GLOBAL)
                    : cuMemAlloc(&ptr, size);
      }
      check(r, managed ? "cuMemAllocManaged" : "cuMemAlloc",
            " (" + std::to_string(size) + " bytes)");
    }
    live[ptr] = {size, managed};
    liveBytes += size;
    return reinterpret_cast<void *>(ptr);
  }

  void release(void *p) {
    if (!p)
      return;
    auto ptr = reinterpret_cast<CUdeviceptr>(p);
    std::lock_guard<std::mutex> lock(mutex);
    auto it = live.find(ptr);
    if (it == live.end())
      report("mgpuMemFree: " + std::to_string(ptr) +
             " was not allocated by mgpuMemAlloc (or was freed twice)");
    Block block = it->second;
    live.erase(it);
    liveBytes -= block.size;
    if (enabled() && cached + block.size <= kCacheLimit) {
      cache[{block.size, block.managed}].push_back(ptr);
      cached += block.size;
      return;
    }
    check(cuMemFree(ptr), "cuMemFree");
  }

  void stats(size_t *liveOut, size_t *cachedOut) {
    std::lock_guard<std::mutex> lock(mutex);
    if (liveOut)
      *liveOut = liveBytes;
    if (cachedOut)
      *cachedOut = cached;
  }

private:
  struct Block {
    uint64_t size;
    bool managed;
  };
  static constexpr uint64_t kCacheLimit = uint64_t(4) << 30;
  std::mutex mutex;
  std::map<std::pair<uint64_t, bool>, std::vector<CUdeviceptr>> cache;
  std::unordered_map<CUdeviceptr, Block> live;
  uint64_t cached = 0, liveBytes = 0;

  static bool enabled() {
    static const bool on = [] {
      const char *v = std::getenv("BAQ_CUDA_CACHE");
      return !v || std::strcmp(v, "0") != 0;
    }();
    return on;
  }

  void releaseCache() {
    for (auto &[key, ptrs] : cache)
      for (CUdeviceptr ptr : ptrs)
        check(cuMemFree(ptr), "cuMemFree");
    cache.clear();
    cached = 0;
  }
};

Allocator &allocator() {
  static Allocator *a = new Allocator(); // outlives static destructors
  return *a;
}

unsigned toDim(intptr_t v, const char *what) {
  if (v < 1 || v > INT32_MAX)
    report(std::string("mgpuLaunchKernel: ") + what + " " + std::to_string(v) +
           " is outside [1, 2^31 - 1]");
  return static_cast<unsigned>(v);
}

} // namespace

//===----------------------------------------------------------------------===//
// baq-specific entry points
//===----------------------------------------------------------------------===//

BAQ_EXPORT void baqCudaSetErrorHandler(BaqCudaErrorHandler handler) {
  errorHandler = handler;
}

BAQ_EXPORT int baqCudaProbe(char *message, size_t size) {
  const Device &d = initialize();
  if (d.failure.empty())
    return 0;
  if (message && size) {
    std::strncpy(message, d.failure.c_str(), size - 1);
    message[size - 1] = '\0';
  }
  return 1;
}

BAQ_EXPORT int baqCudaDeviceInfo(BaqCudaDeviceInfo *info) {
  const Device &d = device();
  std::memset(info, 0, sizeof(*info));
  check(cuDeviceGetName(info->name, sizeof(info->name) - 1, d.device),
        "cuDeviceGetName");
  auto attr = [&](CUdevice_attribute a) {
    int v = 0;
    check(cuDeviceGetAttribute(&v, a, d.device), "cuDeviceGetAttribute");
    return v;
  };
  info->major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  info->minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  info->multiprocessors = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  check(cuDeviceTotalMem(&info->totalMemory, d.device), "cuDeviceTotalMem");
  // Double data rate: 2 transfers per clock (kHz) of bus-width bits.
  double clockKHz = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
  double busBits = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
  info->peakBandwidth = 2.0 * clockKHz * 1e3 * (busBits / 8) / 1e9;
  return 0;
}

BAQ_EXPORT void baqCudaSynchronize(void) {
  device();
  check(cuCtxSynchronize(), "cuCtxSynchronize");
}

BAQ_EXPORT void baqCudaMemoryStats(size_t *live, size_t *cached) {
  allocator().stats(live, cached);
}

//===----------------------------------------------------------------------===//
// The mgpu* ABI of MLIR's gpu-to-llvm lowering
//===----------------------------------------------------------------------===//

BAQ_EXPORT void mgpuSetDefaultDevice(int32_t ordinal) {
  defaultDevice = ordinal;
}

BAQ_EXPORT CUmodule mgpuModuleLoad(void *data, size_t /*size*/) {
  device();
  CUmodule module = nullptr;
  check(cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

/// PTX, compiled by the driver for the device at hand; its log on failure.
BAQ_EXPORT CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  device();
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  int level = optLevel < 0 ? 0 : optLevel > 4 ? 4 : optLevel;
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                    reinterpret_cast<void *>(static_cast<intptr_t>(level))};
  CUmodule module = nullptr;
  CUresult r = cuModuleLoadDataEx(&module, data, 3, options, values);
  check(r, "cuModuleLoadDataEx (PTX JIT)",
        log[0] ? std::string(": ") + log : std::string());
  return module;
}

BAQ_EXPORT void mgpuModuleUnload(CUmodule module) {
  // Modules are unloaded by global destructors, possibly after the driver
  // was torn down at exit: nothing to report then.
  if (module && initialize().failure.empty())
    (void)cuModuleUnload(module);
}

BAQ_EXPORT CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  CUfunction function = nullptr;
  check(cuModuleGetFunction(&function, module, name), "cuModuleGetFunction",
        std::string(" (kernel '") + name + "')");
  return function;
}

BAQ_EXPORT void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                                 intptr_t gridY, intptr_t gridZ,
                                 intptr_t blockX, intptr_t blockY,
                                 intptr_t blockZ, int32_t smem, CUstream stream,
                                 void **params, void **extra,
                                 size_t /*paramsCount*/) {
  device();
  check(cuLaunchKernel(function, toDim(gridX, "grid x"), toDim(gridY, "grid y"),
                       toDim(gridZ, "grid z"), toDim(blockX, "block x"),
                       toDim(blockY, "block y"), toDim(blockZ, "block z"), smem,
                       stream, params, extra),
        "cuLaunchKernel");
}

BAQ_EXPORT CUstream mgpuStreamCreate() { return device().stream; }

BAQ_EXPORT void mgpuStreamDestroy(CUstream stream) {
  if (stream != state.stream)
    check(cuStreamDestroy(stream), "cuStreamDestroy");
}

BAQ_EXPORT void mgpuStreamSynchronize(CUstream stream) {
  // Kernel faults surface here, at the first synchronization after them.
  check(cuStreamSynchronize(stream), "cuStreamSynchronize");
}

BAQ_EXPORT void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  check(cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
}

BAQ_EXPORT CUevent mgpuEventCreate() {
  device();
  CUevent event = nullptr;
  check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  return event;
}

BAQ_EXPORT void mgpuEventDestroy(CUevent event) {
  check(cuEventDestroy(event), "cuEventDestroy");
}

BAQ_EXPORT void mgpuEventSynchronize(CUevent event) {
  check(cuEventSynchronize(event), "cuEventSynchronize");
}

BAQ_EXPORT void mgpuEventRecord(CUevent event, CUstream stream) {
  check(cuEventRecord(event, stream), "cuEventRecord");
}

/// `isHostShared`: managed memory, reachable from host code too.
BAQ_EXPORT void *mgpuMemAlloc(uint64_t size, CUstream /*stream*/,
                              bool isHostShared) {
  return allocator().allocate(size, isHostShared);
}

BAQ_EXPORT void mgpuMemFree(void *ptr, CUstream stream) {
  // A cached buffer may be handed out again at once: the work that still
  // reads it must be done. Work on other streams than ours is ordered by the
  // caller's events, as with cuMemFree.
  if (ptr)
    check(cuStreamSynchronize(stream ? stream : device().stream),
          "cuStreamSynchronize");
  allocator().release(ptr);
}

BAQ_EXPORT void mgpuMemcpy(void *dst, void *src, size_t size, CUstream stream) {
  device();
  check(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                      reinterpret_cast<CUdeviceptr>(src), size, stream),
        "cuMemcpyAsync");
}

BAQ_EXPORT void mgpuMemset32(void *dst, unsigned value, size_t count,
                             CUstream stream) {
  device();
  check(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream),
        "cuMemsetD32Async");
}

BAQ_EXPORT void mgpuMemset16(void *dst, unsigned short value, size_t count,
                             CUstream stream) {
  device();
  check(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         stream),
        "cuMemsetD16Async");
}

BAQ_EXPORT void mgpuMemHostRegister(void *ptr, uint64_t size) {
  device();
  check(cuMemHostRegister(ptr, size, 0), "cuMemHostRegister");
}

BAQ_EXPORT void mgpuMemHostUnregister(void *ptr) {
  device();
  check(cuMemHostUnregister(ptr), "cuMemHostUnregister");
}

namespace {
/// A ranked memref descriptor's header: allocated and aligned pointers,
/// offset, then sizes and strides.
struct Descriptor {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizes[1];
};
} // namespace

/// Registers a dense memref (upstream's helper for examples).
BAQ_EXPORT void mgpuMemHostRegisterMemRef(int64_t rank, Descriptor *d,
                                          int64_t elementSize) {
  int64_t count = 1;
  for (int64_t i = 0; i < rank; ++i)
    count *= d->sizes[i];
  mgpuMemHostRegister(d->aligned + d->offset * elementSize,
                      static_cast<uint64_t>(count * elementSize));
}

BAQ_EXPORT void mgpuMemHostUnregisterMemRef(int64_t /*rank*/, Descriptor *d,
                                            int64_t elementSize) {
  mgpuMemHostUnregister(d->aligned + d->offset * elementSize);
}
