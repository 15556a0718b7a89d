//===- baq-run.cpp - Run a whole-model module on the MLIR ExecutionEngine -===//
//
// Takes the tensor-level module that `python -m baq.export_model` writes
// (FP32, or quantized by --baq-allocate), lowers it with --baq-lower-cpu
// (C wrappers on), or with --baq-lower-nvvm to PTX for --device cuda, and
// JIT-compiles it, then drives its @forward (one token) and @prefill (a
// window of tokens) functions with the llama2.c tokenizer: greedy generation
// as llama2.c's run.c, or perplexity with exactly baq.eval's windows. The KV
// caches are function arguments and results; the module returns freshly
// allocated buffers, which this driver frees. On the GPU every op is a
// kernel and every buffer (token ids, caches, logits) is managed memory from
// libbaq_cuda_runtime, which the JIT'd host code calls to load and launch
// the kernels.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Parameters.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"
#include "baq/Runtime/CudaRuntime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

using namespace mlir;
namespace cl = llvm::cl;

// baq-run's own options, listed first by --help; the LLVM and MLIR options
// linked in (about 2,700) stay usable and are listed by --help-hidden.
static cl::OptionCategory runCategory("baq-run options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required, cl::cat(runCategory));
static cl::opt<std::string> tokenizerFile("tokenizer",
                                          cl::desc("llama2.c tokenizer.bin"),
                                          cl::Required, cl::cat(runCategory));
static cl::opt<std::string> prompt("prompt", cl::desc("prompt text"),
                                   cl::init(""), cl::cat(runCategory));
static cl::opt<int64_t>
    steps("steps",
          cl::desc("positions to run, prompt included, as run.c (clipped to "
                   "the model's context); 0: the whole context. With "
                   "--perplexity: generate after it only if given"),
          cl::init(256), cl::cat(runCategory));
static cl::opt<std::string> perplexityFile(
    "perplexity",
    cl::desc("compute perplexity of this text (stories separated by "
             "<|endoftext|> lines) with baq.eval's windows, instead of "
             "generating"),
    cl::cat(runCategory));
static cl::opt<int64_t>
    windowLen("window-len",
              cl::desc("perplexity window length (clipped to the context)"),
              cl::init(512), cl::cat(runCategory));
static cl::opt<int64_t>
    maxWindows("max-windows",
               cl::desc("evaluate only the first N windows (0: all)"),
               cl::init(0), cl::cat(runCategory));
static cl::opt<std::string> dumpLogits(
    "dump-logits",
    cl::desc("also write the float32 logits of every prompt position to this "
             "file (row-major [prompt tokens, vocab])"),
    cl::cat(runCategory));
static cl::opt<bool>
    noPrefill("no-prefill",
              cl::desc("use @forward only, even where @prefill exists"),
              cl::init(false), cl::cat(runCategory));

enum class DeviceKind { CPU, CUDA };
static cl::opt<DeviceKind> device(
    "device", cl::desc("where the model runs"),
    cl::values(clEnumValN(DeviceKind::CPU, "cpu",
                          "the CPU: --baq-lower-cpu, kernels on OpenMP "
                          "threads (default)"),
               clEnumValN(DeviceKind::CUDA, "cuda",
                          "an NVIDIA GPU: --baq-lower-nvvm, every op a "
                          "kernel, weights and KV caches in GPU memory")),
    cl::init(DeviceKind::CPU), cl::cat(runCategory));
// libLLVM registers an undocumented --threads=<int> of its own: main()
// unregisters it and creates this one in its place.
static std::unique_ptr<cl::opt<unsigned>> threadsOption;
static void registerThreadsOption() {
  auto &options = cl::getRegisteredOptions();
  if (auto it = options.find("threads"); it != options.end())
    it->second->removeArgument();
  threadsOption = std::make_unique<cl::opt<unsigned>>(
      "threads",
      cl::desc("CPU threads of the compiled model (default: "
               "OMP_NUM_THREADS, else one per core)"),
      cl::init(0), cl::cat(runCategory));
}
static cl::opt<std::string> lowerOptions(
    "lower-options",
    cl::desc("extra options of the lowering pipeline (--baq-lower-cpu, or "
             "--baq-lower-nvvm with --device cuda), e.g. 'unroll=2'"),
    cl::init(""), cl::cat(runCategory));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::init(3), cl::cat(runCategory));
static cl::opt<std::string> cudaRuntime(
    "cuda-runtime",
    cl::desc("the CUDA runtime library that --device cuda loads (default: "
             "the libbaq_cuda_runtime built with baq-run)"),
#ifdef BAQ_CUDA_RUNTIME_PATH
    cl::init(BAQ_CUDA_RUNTIME_PATH),
#else
    cl::init(""),
#endif
    cl::cat(runCategory));
static cl::opt<std::string> dumpLowered(
    "dump-lowered",
    cl::desc("write the lowered module (LLVM dialect; with --device cuda "
             "with its PTX) to this file before JIT compilation"),
    cl::cat(runCategory));
static cl::opt<std::string> paramsFile(
    "params",
    cl::desc("parameter file (safetensors, docs/FORMAT.md) holding the "
             "packed weights the module reads by key (baq.packed_parameter, "
             "from baq-opt --baq-externalize-params); mapped, not copied"),
    cl::value_desc("file"), cl::cat(runCategory));
static cl::list<std::string>
    sharedLibs("shared-libs", cl::desc("libraries to load into the JIT"),
               cl::CommaSeparated, cl::cat(runCategory));
static cl::list<unsigned> threadCounts(
    "omp-threads",
    cl::desc("thread counts, e.g. 1,2: runs the perplexity and/or "
             "generation once per count on one compilation, so that their "
             "--timing lines compare side by side"),
    cl::CommaSeparated, cl::cat(runCategory));
static cl::opt<bool> perfMap(
    "perf",
    cl::desc("tell perf about the JIT'd functions (LLVM's perf JIT event "
             "listener: jit-<pid>.dump under $JITDUMPDIR or ~/.debug/jit; "
             "record with `perf record -k 1`, then `perf inject --jit`)"),
    cl::init(false), cl::cat(runCategory));
static cl::opt<bool> timing("timing",
                            cl::desc("print compile and token rates to stderr"),
                            cl::init(false), cl::cat(runCategory));
static cl::opt<bool>
    progress("progress",
             cl::desc("print the compile steps and their times on stderr "
                      "(default: when stderr is a terminal)"),
             cl::cat(runCategory));

namespace {

constexpr int32_t kBos = 1;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

double cpuSeconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

/// Wall and process CPU time of a phase, printed by --timing.
struct Phase {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpuSeconds();
  std::string report(StringRef what, int64_t tokens) const {
    double s = secondsSince(wall);
    return llvm::formatv("{0} {1} tokens in {2:f4} s, cpu {3:f4} s ({4:f1} "
                         "tok/s)",
                         what, tokens, s, cpuSeconds() - cpu, tokens / s)
        .str();
  }
};

[[noreturn]] void fatal(const llvm::Twine &message) {
  llvm::errs() << "baq-run: error: " << message << "\n";
  std::exit(1);
}

/// One compile step on stderr with --progress: "baq-run: <what>... 1.2 s".
class ProgressStep {
public:
  explicit ProgressStep(const llvm::Twine &what) {
    if (enabled())
      llvm::errs() << "baq-run: " << what << "... ";
    llvm::errs().flush();
  }
  /// Ends the line with the step's time; returns it.
  double done() {
    double s = secondsSince(start);
    if (enabled())
      llvm::errs() << llvm::formatv("{0:f1} s\n", s);
    return s;
  }

private:
  std::chrono::steady_clock::time_point start =
      std::chrono::steady_clock::now();
  static bool enabled() {
    return progress.getNumOccurrences() ? progress.getValue()
                                        : llvm::errs().is_displayed();
  }
};

/// libbaq_cuda_runtime, loaded into the process (the JIT resolves the
/// modules' mgpu* calls against it), and the functions baq-run calls itself.
struct CudaRuntime {
  void *(*memAlloc)(uint64_t, void *, bool) = nullptr;
  void (*memFree)(void *, void *) = nullptr;
  void (*memset32)(void *, unsigned, size_t, void *) = nullptr;
  void (*synchronize)() = nullptr;
  BaqCudaDeviceInfo info{};

  /// Loads the library and initializes the GPU; exits with the reason if
  /// there is none.
  static CudaRuntime load() {
    if (cudaRuntime.empty())
      fatal("--device cuda: this baq-run was built without the CUDA toolkit "
            "(no libbaq_cuda_runtime); pass --cuda-runtime=<path>");
    std::string error;
    auto lib = llvm::sys::DynamicLibrary::getPermanentLibrary(
        cudaRuntime.c_str(), &error);
    if (!lib.isValid())
      fatal("no CUDA driver/GPU available: cannot load the CUDA runtime '" +
            cudaRuntime + "': " + error);
    auto get = [&](const char *name) {
      void *f = lib.getAddressOfSymbol(name);
      if (!f)
        fatal("'" + cudaRuntime + "' is not a baq CUDA runtime: no " + name);
      return f;
    };
    CudaRuntime rt;
    using SetHandler = void (*)(BaqCudaErrorHandler);
    reinterpret_cast<SetHandler>(get("baqCudaSetErrorHandler"))(
        [](const char *message) { fatal(llvm::Twine("CUDA: ") + message); });
    char message[512];
    using Probe = int (*)(char *, size_t);
    if (reinterpret_cast<Probe>(get("baqCudaProbe"))(message, sizeof(message)))
      fatal(message);
    using Info = int (*)(BaqCudaDeviceInfo *);
    reinterpret_cast<Info>(get("baqCudaDeviceInfo"))(&rt.info);
    rt.memAlloc = reinterpret_cast<decltype(rt.memAlloc)>(get("mgpuMemAlloc"));
    rt.memFree = reinterpret_cast<decltype(rt.memFree)>(get("mgpuMemFree"));
    rt.memset32 = reinterpret_cast<decltype(rt.memset32)>(get("mgpuMemset32"));
    rt.synchronize =
        reinterpret_cast<decltype(rt.synchronize)>(get("baqCudaSynchronize"));
    return rt;
  }
};

/// Bytes of the parameters @forward reads: its globals and constant tensors
/// (packed weights, scales, zeros), each counted once. An upper bound on the
/// weight bytes a token reads: the embedding table counts in full.
int64_t parameterBytes(ModuleOp module, func::FuncOp forward) {
  llvm::DenseSet<Operation *> seen;
  int64_t bytes = 0;
  auto add = [&](Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped || !shaped.hasStaticShape())
      return;
    Type elem = shaped.getElementType();
    int64_t bits = elem.isIntOrFloat() ? elem.getIntOrFloatBitWidth() : 64;
    bytes += (shaped.getNumElements() * bits + 7) / 8;
  };
  forward.walk([&](Operation *op) {
    if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
      Operation *global = SymbolTable::lookupSymbolIn(module, get.getName());
      if (global && seen.insert(global).second)
        add(get.getType());
    } else if (op->getNumOperands() == 0 && op->getNumRegions() == 0) {
      for (Type t : op->getResultTypes())
        if (isa<RankedTensorType>(t))
          add(t);
    }
  });
  return bytes;
}

//===----------------------------------------------------------------------===//
// Parameter file
//===----------------------------------------------------------------------===//

/// The --params file mapped read-only, and the address in it of every part
/// the module reads, by the symbol of the part's external global.
struct MappedParameters {
  std::unique_ptr<llvm::sys::fs::mapped_file_region> region;
  llvm::StringMap<const void *> symbols;
  int64_t bytes = 0;
};

/// Maps --params and checks every parameter `module` reads (its layout,
/// dtypes, shapes, byte sizes and 64-byte alignment) before compilation;
/// every mismatch is fatal and names the key.
MappedParameters mapParameters(ModuleOp module, bool onGpu) {
  llvm::MapVector<StringRef, baq::PackedLayoutAttr> keys;
  module.walk([&](baq::PackedParameterOp op) {
    auto [it, inserted] = keys.try_emplace(op.getKey(), op.getLayout());
    if (!inserted && it->second != op.getLayout())
      fatal("parameter '" + op.getKey() +
            "' is read with two different layouts");
  });
  MappedParameters params;
  if (keys.empty()) {
    if (!paramsFile.empty())
      llvm::errs() << "baq-run: note: the module reads no parameters; "
                      "--params is not used\n";
    return params;
  }
  if (paramsFile.empty())
    fatal(llvm::formatv("the module reads {0} packed weights from a "
                        "parameter file (e.g. '{1}'): pass it with --params",
                        keys.size(), keys.front().first)
              .str());
  if (onGpu)
    fatal("--device cuda embeds the weights in the kernels: inline the "
          "parameters first (baq-opt --baq-inline-params=file=...)");
  auto failFile = [](const llvm::Twine &why) {
    fatal("parameter file '" + paramsFile + "': " + why);
  };
  int fd = -1;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(paramsFile, fd))
    failFile(ec.message());
  llvm::sys::fs::file_status status;
  std::error_code ec = llvm::sys::fs::status(fd, status);
  uint64_t size = status.getSize();
  if (!ec && size < 8)
    failFile(
        llvm::formatv("{0} bytes, shorter than the 8-byte header size", size));
  if (!ec)
    params.region = std::make_unique<llvm::sys::fs::mapped_file_region>(
        llvm::sys::fs::convertFDToNativeFile(fd),
        llvm::sys::fs::mapped_file_region::readonly, size, 0, ec);
  llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  if (ec)
    failFile(ec.message());
  const char *base = params.region->const_data();
  llvm::Expected<baq::SafetensorsFile> file = baq::parseSafetensors(
      llvm::MemoryBuffer::getMemBuffer(StringRef(base, size), paramsFile,
                                       /*RequiresNullTerminator=*/false));
  if (!file)
    failFile(llvm::toString(file.takeError()));
  if (llvm::Error error = baq::checkParameterFormat(*file))
    failFile(llvm::toString(std::move(error)));
  llvm::StringMap<const baq::SafetensorsEntry *> entries;
  for (const baq::SafetensorsEntry &entry : file->entries)
    entries[entry.name] = &entry;
  for (auto &[key, layout] : keys) {
    auto found = baq::findParameter(*file, entries, key, layout,
                                    /*checkAlignment=*/true);
    if (!found)
      failFile("parameter '" + key + "': " + llvm::toString(found.takeError()));
    for (baq::PackedPart part : baq::kPackedParts) {
      const baq::SafetensorsEntry *entry =
          (*found)[static_cast<unsigned>(part)];
      // The kernels' globals are 64-byte aligned; the mapping is
      // page-aligned, so the offset check above makes this one hold.
      const char *address = base + entry->begin;
      if (reinterpret_cast<uintptr_t>(address) % baq::kParameterAlignment)
        failFile("tensor '" + entry->name +
                 "' is not 64-byte aligned in memory");
      params.symbols[baq::getParameterSymbol(key, part)] = address;
      params.bytes += entry->end - entry->begin;
    }
  }
  return params;
}

//===----------------------------------------------------------------------===//
// Tokenizer (llama2.c run.c encode/decode)
//===----------------------------------------------------------------------===//

struct Tokenizer {
  std::vector<std::string> vocab;
  std::vector<float> scores;
  llvm::StringMap<int32_t> lookup;

  static Tokenizer load(StringRef path, int64_t vocabSize) {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      fatal("cannot read tokenizer '" + path +
            "': " + buffer.getError().message());
    StringRef data = (*buffer)->getBuffer();
    auto fail = [&](const llvm::Twine &why) {
      fatal("tokenizer '" + path + "' is not a llama2.c tokenizer.bin: " + why);
    };
    auto readI32 = [&](size_t off) {
      int32_t v;
      std::memcpy(&v, data.data() + off, 4);
      return v;
    };
    if (data.size() < 4)
      fail("too short");
    int32_t maxLen = readI32(0);
    if (maxLen <= 0 || maxLen > 4096)
      fail("max_token_length " + llvm::Twine(maxLen) + " is implausible");
    Tokenizer t;
    size_t off = 4;
    for (int64_t i = 0; i < vocabSize; ++i) {
      if (off + 8 > data.size())
        fail("truncated at token " + llvm::Twine(i) + " of the model's " +
             llvm::Twine(vocabSize));
      float score;
      std::memcpy(&score, data.data() + off, 4);
      int32_t len = readI32(off + 4);
      off += 8;
      if (len < 0 || len > std::max(maxLen, 64) || off + len > data.size())
        fail("bad token record " + llvm::Twine(i));
      t.vocab.emplace_back(data.substr(off, len));
      t.scores.push_back(score);
      t.lookup.try_emplace(t.vocab.back(), static_cast<int32_t>(i));
      off += len;
    }
    return t;
  }

  int32_t find(StringRef piece) const {
    auto it = lookup.find(piece);
    return it == lookup.end() ? -1 : it->second;
  }

  /// run.c encode(): BOS, dummy prefix, one token per code point (byte
  /// fallback), then best-score merges (leftmost on ties).
  std::vector<int32_t> encode(StringRef text) const {
    std::vector<int32_t> tokens{kBos};
    if (!text.empty()) {
      int32_t dummy = find(" ");
      if (dummy < 0)
        fatal("tokenizer has no ' ' piece for the dummy prefix");
      tokens.push_back(dummy);
    }
    std::string buf;
    for (size_t i = 0; i < text.size(); ++i) {
      unsigned char c = text[i];
      if ((c & 0xC0) != 0x80)
        buf.clear();
      buf.push_back(static_cast<char>(c));
      unsigned char next = i + 1 < text.size() ? text[i + 1] : 0;
      if ((next & 0xC0) == 0x80 && buf.size() < 4)
        continue;
      int32_t id = find(buf);
      if (id >= 0)
        tokens.push_back(id);
      else
        for (char b : buf) {
          // run.c's byte fallback (<0x00> is token 3): a smaller vocabulary
          // has no such token, and the model must not see an id >= V.
          int32_t byteId = static_cast<unsigned char>(b) + 3;
          if (byteId >= static_cast<int32_t>(vocab.size()))
            fatal(llvm::formatv("the text's byte 0x{0:X-2} is not in the "
                                "vocabulary and its byte-fallback token {1} "
                                "is past the model's vocabulary of {2}",
                                static_cast<unsigned char>(b), byteId,
                                vocab.size())
                      .str());
          tokens.push_back(byteId);
        }
      buf.clear();
    }
    while (true) {
      float best = -1e10f;
      int32_t bestId = -1;
      size_t bestIdx = 0;
      for (size_t i = 0; i + 1 < tokens.size(); ++i) {
        int32_t id = find(vocab[tokens[i]] + vocab[tokens[i + 1]]);
        if (id >= 0 && scores[id] > best) {
          best = scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestId < 0)
        break;
      tokens[bestIdx] = bestId;
      tokens.erase(tokens.begin() + bestIdx + 1);
    }
    return tokens;
  }

  /// run.c decode() + safe_printf().
  std::string piece(int32_t prev, int32_t token) const {
    StringRef p = vocab[token];
    if (prev == kBos && p.starts_with(" "))
      p = p.drop_front();
    unsigned byte;
    std::string raw;
    if (p.size() == 6 && p.starts_with("<0x") && p.ends_with(">") &&
        !p.substr(3, 2).getAsInteger(16, byte)) {
      raw.assign(1, static_cast<char>(byte));
      p = raw;
    }
    if (p.size() == 1) {
      unsigned char b = p[0];
      if (!(llvm::isPrint(b) || llvm::isSpace(b)))
        return "";
    }
    return p.str();
  }
};

//===----------------------------------------------------------------------===//
// The compiled model
//===----------------------------------------------------------------------===//

/// Shapes read from @forward's signature.
struct ModelShape {
  int64_t layers = 0, seqLen = 0, kvDim = 0, vocab = 0;
};

/// What a step function returns through its C wrapper's result pointer.
struct StepResults {
  StridedMemRefType<float, 2> logits;
  StridedMemRefType<float, 3> kcache;
  StridedMemRefType<float, 3> vcache;
};

/// Checks `(tensor<Txi32>, index, cache, cache) -> (tensor<TxVxf32>, cache,
/// cache)` with cache = tensor<LxSxKxf32>; returns T and fills `shape`.
FailureOr<int64_t> checkStep(func::FuncOp f, ModelShape &shape) {
  auto fail =
      [&](const llvm::Twine &why) {
        return f.emitError()
               << "@" << f.getSymName()
               << " must be (tensor<Txi32>, index, tensor<LxSxKxf32>, "
                  "tensor<LxSxKxf32>) -> (tensor<TxVxf32>, "
                  "tensor<LxSxKxf32>, tensor<LxSxKxf32>) as "
                  "baq.export_model writes it: "
               << why;
      };
  FunctionType type = f.getFunctionType();
  if (type.getNumInputs() != 4 || type.getNumResults() != 3)
    return fail(llvm::formatv("it has {0} arguments and {1} results",
                              type.getNumInputs(), type.getNumResults())
                    .str());
  auto ranked = [](Type t, int64_t rank, Type elem) {
    auto r = dyn_cast<RankedTensorType>(t);
    return r && r.hasStaticShape() && r.getRank() == rank &&
                   r.getElementType() == elem
               ? r
               : RankedTensorType();
  };
  Builder b(f.getContext());
  auto tokens = ranked(type.getInput(0), 1, b.getI32Type());
  auto cache = ranked(type.getInput(2), 3, b.getF32Type());
  auto logits = ranked(type.getResult(0), 2, b.getF32Type());
  if (!tokens || !isa<IndexType>(type.getInput(1)) || !cache ||
      type.getInput(3) != cache || !logits || type.getResult(1) != cache ||
      type.getResult(2) != cache ||
      logits.getDimSize(0) != tokens.getDimSize(0))
    return fail("it is " + llvm::formatv("{0}", type).str());
  ModelShape s{cache.getDimSize(0), cache.getDimSize(1), cache.getDimSize(2),
               logits.getDimSize(1)};
  // The driver feeds BOS (token 1) and takes an argmax over V logits: an
  // empty or one-token vocabulary has neither.
  if (s.vocab < 2)
    return fail(llvm::formatv("its vocabulary V = {0} is too small: baq-run "
                              "feeds token 1 (BOS), so V must be at least 2",
                              s.vocab)
                    .str());
  if (s.seqLen < 1)
    return fail("its context S is 0");
  // The KV cache is allocated here: its element count must not wrap.
  int64_t cacheElements;
  if (llvm::MulOverflow(s.layers, s.seqLen, cacheElements) ||
      llvm::MulOverflow(cacheElements, s.kvDim, cacheElements) ||
      cacheElements > (int64_t(1) << 40))
    return fail(llvm::formatv("its KV cache of {0}x{1}x{2} floats is too "
                              "large",
                              s.layers, s.seqLen, s.kvDim)
                    .str());
  if (shape.layers && (s.layers != shape.layers || s.seqLen != shape.seqLen ||
                       s.kvDim != shape.kvDim || s.vocab != shape.vocab))
    return fail("its cache or vocabulary differs from @forward's");
  shape = s;
  return tokens.getDimSize(0);
}

class Model {
public:
  ModelShape shape;
  int64_t prefillTokens = 0; // 0: no @prefill
  double lowerSeconds = 0, jitSeconds = 0;
  int64_t paramBytes = 0;
  bool usesOpenMP = false;         // the lowered module runs kernels on threads
  unsigned threads = 0;            // set by setThreads; 0: OMP_NUM_THREADS
  std::optional<CudaRuntime> cuda; // --device cuda
  MappedParameters params;         // --params

  Model(MLIRContext &context, llvm::SourceMgr &sourceMgr) {
    OwningOpRef<ModuleOp> module =
        parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      std::exit(1);
    auto forward = module->lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      (void)module->emitError(
          "no func.func @forward: baq-run takes the tensor-level module that "
          "baq.export_model writes (FP32 or after --baq-allocate)");
      std::exit(1);
    }
    paramBytes = parameterBytes(*module, forward);
    // Checked before the (slow) compilation: a wrong file fails fast.
    params = mapParameters(*module, device == DeviceKind::CUDA);
    FailureOr<int64_t> t = checkStep(forward, shape);
    if (failed(t))
      std::exit(1);
    if (*t != 1) {
      (void)forward.emitError("@forward must take one token, it takes " +
                              llvm::Twine(*t));
      std::exit(1);
    }
    if (auto prefill = module->lookupSymbol<func::FuncOp>("prefill")) {
      // Not compiling an unused @prefill halves the JIT's work.
      if (noPrefill) {
        prefill.erase();
      } else {
        FailureOr<int64_t> p = checkStep(prefill, shape);
        if (failed(p))
          std::exit(1);
        prefillTokens = *p;
      }
    }
    this->module = std::move(module);
  }

  /// Lowers with --baq-lower-cpu (or --baq-lower-nvvm and PTX for
  /// --device cuda) and JIT-compiles the module.
  void compile() {
    bool onGpu = device == DeviceKind::CUDA;
    // No GPU: fail before the slow compilation, unless the lowered module is
    // asked for.
    if (onGpu && dumpLowered.empty())
      cuda = CudaRuntime::load();
      // The kernels' math (expf, sqrtf, fmaf) links libdevice from the CUDA
      // toolkit that CUDA_HOME, CUDA_ROOT or CUDA_PATH names: default to the
      // one baq-run was built with.
#ifdef BAQ_CUDA_TOOLKIT_ROOT
    if (onGpu && !std::getenv("CUDA_HOME") && !std::getenv("CUDA_ROOT") &&
        !std::getenv("CUDA_PATH"))
      ::setenv("CUDA_HOME", BAQ_CUDA_TOOLKIT_ROOT, /*overwrite=*/0);
#endif
    StringRef lowering = onGpu ? "baq-lower-nvvm" : "baq-lower-cpu";
    ProgressStep lowerStep("lowering with --" + lowering);
    PassManager pm(module->getContext());
    // The NVVM pipeline has no c-interface option: request the wrappers on
    // the functions themselves. The kernels become PTX, which the driver
    // compiles for the GPU at hand when the module is loaded.
    std::string pipeline =
        onGpu ? "func.func(llvm-request-c-wrappers),baq-lower-nvvm{" +
                    lowerOptions + "},gpu-module-to-binary{format=isa}"
              : "baq-lower-cpu{c-interface=true " + lowerOptions + "}";
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (failed(parsePassPipeline(pipeline, pm, os)))
      fatal("bad --lower-options: " + errors);
    if (failed(pm.run(*module)))
      fatal("lowering the module with " + pipeline + " failed");
    lowerSeconds = lowerStep.done();
    if (!dumpLowered.empty()) {
      std::string error;
      auto out = openOutputFile(dumpLowered, &error);
      if (!out)
        fatal(error);
      module->print(out->os());
      out->keep();
    }
    if (onGpu) {
      checkLibdeviceLinked();
      if (!cuda)
        cuda = CudaRuntime::load();
    }
    ProgressStep jitStep(llvm::formatv("JIT compiling (LLVM -O{0}{1})",
                                       optLevel.getValue(),
                                       onGpu ? ", PTX for the driver" : "")
                             .str());
    auto start = std::chrono::steady_clock::now();
    std::vector<StringRef> libs(sharedLibs.begin(), sharedLibs.end());
    if (onGpu)
      libs.push_back(cudaRuntime);
    // Kernels large enough for threads (baq-kernels-to-parallel) call the
    // OpenMP runtime.
    module->walk([&](Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "omp")
        usesOpenMP = true;
    });
    if (usesOpenMP && llvm::none_of(libs, [](StringRef lib) {
          return lib.contains("omp");
        })) {
      // Unbound, libomp's threads can share a core on small VMs (measured:
      // a 2-thread kernel slower than 1 thread); the user's setting wins.
      ::setenv("OMP_PROC_BIND", "true", /*overwrite=*/0);
#ifdef BAQ_LIBOMP_PATH
      libs.push_back(BAQ_LIBOMP_PATH);
#else
      fatal("the lowered module runs kernels on OpenMP threads: pass "
            "--shared-libs=<path to libomp.so> or --lower-options="
            "parallel=false");
#endif
    }
    ExecutionEngineOptions options;
    // LLVM vectorises the model's loops (attention, norms, RoPE, SwiGLU) only
    // with the host's cost model; without a target machine it assumes no
    // vector registers. The JIT's code generator targets the host anyway.
    std::unique_ptr<llvm::TargetMachine> host;
    if (auto builder = llvm::orc::JITTargetMachineBuilder::detectHost()) {
      if (auto tm = builder->createTargetMachine())
        host = std::move(*tm);
      else
        llvm::consumeError(tm.takeError());
    } else {
      llvm::consumeError(builder.takeError());
    }
    auto transformer = makeOptimizingTransformer(optLevel, 0, host.get());
    options.transformer = transformer;
    options.sharedLibPaths = libs;
    options.enablePerfNotificationListener = perfMap;
    auto maybeEngine = ExecutionEngine::create(*module, options);
    if (!maybeEngine)
      fatal("JIT compilation failed: " +
            llvm::toString(maybeEngine.takeError()));
    engine = std::move(*maybeEngine);
    // The parameters' external globals are the mapped file: zero copy.
    if (!params.symbols.empty())
      engine->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
        llvm::orc::SymbolMap map;
        for (const auto &[name, address] : params.symbols)
          map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
        return map;
      });
    // The JIT compiles on the first lookup (and loads the GPU modules): do
    // it here, not in the first timed call.
    for (StringRef fn : {"_mlir_ciface_forward", "_mlir_ciface_prefill"})
      if (fn == "_mlir_ciface_forward" || prefillTokens > 1)
        if (auto fnOrError = engine->lookupPacked(fn); !fnOrError)
          fatal("JIT compilation failed: " +
                llvm::toString(fnOrError.takeError()));
    jitSeconds = secondsSince(start);
    jitStep.done();
    // At least one element: calloc(0) may return null (0 layers or K = 0).
    size_t n = std::max<size_t>(1, shape.layers * shape.seqLen * shape.kvDim);
    kcache = makeCache(allocate(n * sizeof(float)), n);
    vcache = makeCache(allocate(n * sizeof(float)), n);
    // The token ids the kernels read.
    size_t maxTokens = std::max<int64_t>(1, prefillTokens);
    ids = static_cast<int32_t *>(allocate(maxTokens * sizeof(int32_t)));
  }

  /// PTX that still declares libdevice functions would fail to load on the
  /// GPU ("unresolved extern function"): say why now.
  void checkLibdeviceLinked() {
    std::string missing;
    module->walk([&](gpu::BinaryOp binary) {
      for (Attribute attr : binary.getObjects()) {
        StringRef ptx = cast<gpu::ObjectAttr>(attr).getObject().getValue();
        for (size_t at = ptx.find(" __nv_"); at != StringRef::npos;
             at = ptx.find(" __nv_", at + 1)) {
          StringRef name =
              ptx.substr(at + 1).take_while([](char c) { return c != '('; });
          StringRef line = ptx.substr(0, at).rsplit('\n').second;
          if (line.contains(".extern") && !StringRef(missing).contains(name))
            missing += (missing.empty() ? "" : ", ") + name.rtrim().str();
        }
      }
    });
    if (!missing.empty())
      fatal("the kernels call libdevice (" + missing +
            ") but it was not linked: set CUDA_HOME to a CUDA toolkit with "
            "nvvm/libdevice/libdevice.10.bc");
  }

  /// Sets the OpenMP team size of the kernels' parallel regions (the JIT
  /// loaded libomp: its symbol is in the process's permanent libraries).
  void setThreads(unsigned n) {
    threads = n;
    if (!usesOpenMP || cuda)
      return;
    using SetNumThreads = void (*)(int);
    auto set = reinterpret_cast<SetNumThreads>(
        llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
            "omp_set_num_threads"));
    if (!set)
      fatal("--omp-threads: omp_set_num_threads not found in the loaded "
            "libraries");
    set(static_cast<int>(n));
  }

  /// The compile part of a --timing line, with the thread count of a sweep.
  std::string timingHeader() const {
    std::string header = llvm::formatv("baq-run: lower {0:f2} s, jit {1:f2} s",
                                       lowerSeconds, jitSeconds);
    if (cuda) {
      const BaqCudaDeviceInfo &i = cuda->info;
      header += llvm::formatv("; device {0} (sm_{1}{2}, {3} SMs, peak {4:f0} "
                              "GB/s)",
                              i.name, i.major, i.minor, i.multiprocessors,
                              i.peakBandwidth);
    } else if (threads || usesOpenMP) {
      // The team size libomp will use, as it reports it.
      using MaxThreads = int (*)();
      auto get = reinterpret_cast<MaxThreads>(
          llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
              "omp_get_max_threads"));
      if (!usesOpenMP)
        header += llvm::formatv("; threads {0} (module not threaded)", threads);
      else if (get)
        header += llvm::formatv("; threads {0}", get());
    }
    return header;
  }

  /// The end of a --timing line: what a token reads at most.
  std::string timingFooter() const {
    return llvm::formatv("; parameters {0:f3} MB", paramBytes / 1e6).str();
  }

  ~Model() {
    release(kcache.basePtr);
    release(vcache.basePtr);
    release(ids);
  }

  /// Runs `tokens` (1 or prefillTokens of them) at `pos`; returns their
  /// logits row-major [tokens, vocab].
  std::vector<float> step(ArrayRef<int32_t> tokens, int64_t pos) {
    llvm::copy(tokens, ids);
    StridedMemRefType<int32_t, 1> in{
        ids, ids, 0, {static_cast<int64_t>(tokens.size())}, {1}};
    StepResults out;
    void *outPtr = &out, *inPtr = &in, *kPtr = &kcache, *vPtr = &vcache;
    SmallVector<void *> args{&outPtr, &inPtr, &pos, &kPtr, &vPtr};
    StringRef fn =
        tokens.size() == 1 ? "_mlir_ciface_forward" : "_mlir_ciface_prefill";
    if (llvm::Error e = engine->invokePacked(fn, args))
      fatal("calling " + fn + ": " + llvm::toString(std::move(e)));
    // Launches are synchronous; this also surfaces any late kernel fault.
    if (cuda)
      cuda->synchronize();
    auto adopt = [&](StridedMemRefType<float, 3> &mine,
                     StridedMemRefType<float, 3> &fresh) {
      if (fresh.basePtr != mine.basePtr)
        release(mine.basePtr);
      mine = fresh;
    };
    adopt(kcache, out.kcache);
    adopt(vcache, out.vcache);
    std::vector<float> logits(tokens.size() * shape.vocab);
    for (int64_t t = 0; t < static_cast<int64_t>(tokens.size()); ++t)
      for (int64_t v = 0; v < shape.vocab; ++v)
        logits[t * shape.vocab + v] =
            out.logits.data[out.logits.offset + t * out.logits.strides[0] +
                            v * out.logits.strides[1]];
    release(out.logits.basePtr);
    return logits;
  }

  /// Logits of every position of `tokens` starting at position 0, through
  /// @prefill windows where they fit and @forward for the rest.
  std::vector<float> run(ArrayRef<int32_t> tokens) {
    std::vector<float> all;
    int64_t pos = 0, n = tokens.size();
    while (pos < n) {
      int64_t take = prefillTokens > 1 && n - pos >= prefillTokens &&
                             pos + prefillTokens <= shape.seqLen
                         ? prefillTokens
                         : 1;
      std::vector<float> l = step(tokens.slice(pos, take), pos);
      all.insert(all.end(), l.begin(), l.end());
      pos += take;
    }
    return all;
  }

private:
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<ExecutionEngine> engine;
  StridedMemRefType<float, 3> kcache{}, vcache{};
  int32_t *ids = nullptr;

  /// Zeroed memory the module can read: managed GPU memory on --device
  /// cuda (reachable by host and kernels), else the C heap, which the
  /// module's own buffers also come from (it frees neither).
  void *allocate(size_t bytes) {
    if (cuda) {
      void *p = cuda->memAlloc(bytes, nullptr, /*isHostShared=*/true);
      cuda->memset32(p, 0, bytes / 4, nullptr);
      cuda->synchronize();
      return p;
    }
    return std::calloc(bytes, 1);
  }
  void release(void *p) {
    if (cuda)
      cuda->memFree(p, nullptr);
    else
      std::free(p);
  }

  StridedMemRefType<float, 3> makeCache(void *memory, size_t /*n*/) {
    auto *data = static_cast<float *>(memory);
    if (!data)
      fatal("out of memory for the KV cache");
    return {data,
            data,
            0,
            {shape.layers, shape.seqLen, shape.kvDim},
            {shape.seqLen * shape.kvDim, shape.kvDim, 1}};
  }
};

/// Logits that are NaN or +Inf give no distribution (a perplexity or an
/// argmax over them would print a number that means nothing); -Inf is a
/// token of probability 0, as long as some logit is finite.
void checkLogits(const float *row, int64_t n, const llvm::Twine &where) {
  bool anyFinite = false;
  for (int64_t v = 0; v < n; ++v) {
    if (std::isnan(row[v]) || row[v] == INFINITY)
      fatal(where + ": logit " + llvm::Twine(v) + " is " +
            (std::isnan(row[v]) ? "NaN" : "+Inf") +
            "; the model's output is not a distribution");
    anyFinite |= std::isfinite(row[v]);
  }
  if (!anyFinite)
    fatal(where + ": every logit is -Inf; the model's output is not a "
                  "distribution");
}

/// -log softmax(row)[target] = (m - row[target]) + log sum exp(row - m),
/// m = max(row). The difference is taken before log-sum-exp is added: with
/// logits near 3e38, m + log(sum) rounds to m and cancels against the target.
double negativeLogLikelihood(const float *row, int64_t n, int32_t target) {
  double m = row[0];
  for (int64_t v = 1; v < n; ++v)
    m = std::max<double>(m, row[v]);
  double sum = 0;
  for (int64_t v = 0; v < n; ++v)
    sum += std::exp(static_cast<double>(row[v]) - m);
  return (m - static_cast<double>(row[target])) + std::log(sum);
}

int32_t argmax(const float *row, int64_t n) {
  int32_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best])
      best = static_cast<int32_t>(i);
  return best;
}

/// --dump-logits: the logits of every prompt position, row-major.
void dumpPromptLogits(Model &model, const Tokenizer &tok) {
  std::vector<float> logits = model.run(tok.encode(prompt));
  std::error_code ec;
  llvm::raw_fd_ostream os(dumpLogits, ec);
  if (ec)
    fatal("cannot write '" + dumpLogits + "': " + ec.message());
  os.write(reinterpret_cast<const char *>(logits.data()),
           logits.size() * sizeof(float));
}

int generate(Model &model, const Tokenizer &tok) {
  std::vector<int32_t> promptTokens = tok.encode(prompt);
  int64_t seqLen = model.shape.seqLen; // the prompt fits: checked in main
  int64_t total = steps <= 0 || steps > seqLen ? seqLen : steps.getValue();
  if (total < static_cast<int64_t>(promptTokens.size()))
    total = promptTokens.size();
  // The prompt but its last token through @prefill/@forward, then one token
  // at a time as run.c.
  ArrayRef<int32_t> head(promptTokens);
  head = head.drop_back();
  Phase prefillPhase;
  model.run(head);
  std::string prefillReport = prefillPhase.report("prefill", head.size());
  Phase decodePhase;
  std::string text;
  for (size_t i = 1; i < promptTokens.size(); ++i)
    text += tok.piece(promptTokens[i - 1], promptTokens[i]);
  llvm::outs() << text;
  llvm::outs().flush();
  int32_t token = promptTokens.back();
  int64_t generated = 0;
  for (int64_t pos = promptTokens.size() - 1; pos < total; ++pos) {
    std::vector<float> logits = model.step({token}, pos);
    checkLogits(logits.data(), model.shape.vocab,
                "generation, position " + llvm::Twine(pos));
    int32_t next = argmax(logits.data(), model.shape.vocab);
    if (next == kBos)
      break;
    llvm::outs() << tok.piece(token, next);
    llvm::outs().flush();
    token = next;
    ++generated;
  }
  llvm::outs() << "\n";
  if (timing)
    llvm::errs() << model.timingHeader() << "; " << prefillReport << "; "
                 << decodePhase.report("decode", generated)
                 << model.timingFooter() << "\n";
  return 0;
}

/// baq.llama2c.split_stories: stories between `<|endoftext|>` lines,
/// stripped, empty ones dropped.
std::vector<std::string> splitStories(StringRef text) {
  std::vector<std::string> stories;
  std::string cur;
  bool first = true;
  auto flush = [&] {
    StringRef s = StringRef(cur).trim(" \t\n\v\f\r");
    if (!s.empty())
      stories.push_back(s.str());
    cur.clear();
    first = true;
  };
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (StringRef line : lines) {
    if (line.rtrim('\r') == "<|endoftext|>") {
      flush();
      continue;
    }
    if (!first)
      cur += '\n';
    cur += line.str();
    first = false;
  }
  flush();
  return stories;
}

int perplexity(Model &model, const Tokenizer &tok) {
  auto buffer = llvm::MemoryBuffer::getFile(perplexityFile);
  if (!buffer)
    fatal("cannot read '" + perplexityFile +
          "': " + buffer.getError().message());
  std::vector<int32_t> stream;
  for (const std::string &story : splitStories((*buffer)->getBuffer())) {
    std::vector<int32_t> t = tok.encode(story);
    stream.insert(stream.end(), t.begin(), t.end());
  }
  int64_t len = std::min<int64_t>(windowLen, model.shape.seqLen);
  if (len < 2)
    fatal("--window-len must be at least 2");
  double total = 0;
  int64_t count = 0, windows = 0;
  int64_t vocab = model.shape.vocab;
  Phase phase;
  for (size_t s = 0; s < stream.size(); s += len) {
    ArrayRef<int32_t> win = ArrayRef<int32_t>(stream).slice(
        s, std::min<size_t>(len, stream.size() - s));
    if (win.size() < 2)
      continue;
    if (maxWindows > 0 && windows == maxWindows)
      break;
    ++windows;
    // Every position but the last predicts its successor.
    std::vector<float> logits = model.run(win.drop_back());
    for (size_t t = 0; t + 1 < win.size(); ++t) {
      const float *row = logits.data() + t * vocab;
      checkLogits(row, vocab,
                  llvm::formatv("window {0} (tokens {1}..{2} of the text), "
                                "position {3}",
                                windows - 1, s, s + win.size() - 1, t));
      total += negativeLogLikelihood(row, vocab, win[t + 1]);
      ++count;
    }
  }
  if (count == 0)
    fatal("'" + perplexityFile + "' has no tokens to predict");
  double mean = total / count;
  llvm::outs() << llvm::formatv("perplexity {0:f6} mean_nll {1:f8} tokens {2} "
                                "windows {3} window_len {4}\n",
                                std::exp(mean), mean, count, windows, len);
  if (timing)
    llvm::errs() << model.timingHeader() << "; "
                 << phase.report("perplexity", count) << model.timingFooter()
                 << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAllPasses();
  baq::registerBaqPasses();
  baq::registerBaqLoweringPasses();
  // --help lists baq-run's options; the LLVM/MLIR ones are hidden, not
  // removed (HideUnrelatedOptions makes them ReallyHidden, which would drop
  // them from --help-hidden too).
  registerThreadsOption();
  cl::opt<unsigned> &threads = *threadsOption;
  llvm::StringMap<cl::OptionHidden> hiddenBefore;
  for (auto &entry : cl::getRegisteredOptions())
    hiddenBefore[entry.first] = entry.second->getOptionHiddenFlag();
  cl::HideUnrelatedOptions(runCategory);
  for (auto &entry : cl::getRegisteredOptions())
    if (entry.second->getOptionHiddenFlag() == cl::ReallyHidden &&
        hiddenBefore.lookup(entry.first) != cl::ReallyHidden)
      entry.second->setHiddenFlag(cl::Hidden);
  cl::ParseCommandLineOptions(
      argc, argv,
      "baq-run: greedy generation and perplexity of a whole-model module "
      "(baq.export_model, FP32 or quantized) compiled for the CPU or an "
      "NVIDIA GPU\n\n  --help-hidden also lists the LLVM and MLIR options\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<baq::BaqDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  // A lowering error's note would otherwise print the whole (huge) op.
  context.printOpOnDiagnostic(false);

  std::string errorMessage;
  auto file = openInputFile(inputFile, &errorMessage);
  if (!file)
    fatal(errorMessage);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  // Read the tokenizer before the (slow) compilation: a wrong path fails
  // fast. Its size is checked against the model's vocabulary below.
  if (!llvm::sys::fs::exists(tokenizerFile))
    fatal("cannot read tokenizer '" + tokenizerFile + "': no such file");
  Model model(context, sourceMgr);
  Tokenizer tok = Tokenizer::load(tokenizerFile, model.shape.vocab);
  size_t promptTokens = tok.encode(prompt).size();
  if (static_cast<int64_t>(promptTokens) > model.shape.seqLen)
    fatal(llvm::formatv("the prompt is {0} tokens, longer than the model's "
                        "context of {1}",
                        promptTokens, model.shape.seqLen)
              .str());
  if (llvm::is_contained(threadCounts, 0u))
    fatal("--omp-threads takes thread counts of at least 1");
  if (threads.getNumOccurrences()) {
    if (threads == 0)
      fatal("--threads takes a thread count of at least 1");
    if (!threadCounts.empty())
      fatal("--threads and --omp-threads both set the thread count: use one");
  }
  if (device == DeviceKind::CUDA &&
      (threads.getNumOccurrences() || !threadCounts.empty()))
    fatal("--threads and --omp-threads set CPU threads; they do not apply "
          "to --device cuda");
  // Checked before the (slow) compilation; a negative count is no count.
  if (steps < 0)
    fatal("--steps must be >= 0 (0: the whole context), got " +
          llvm::Twine(steps.getValue()));
  if (maxWindows < 0)
    fatal("--max-windows must be >= 0 (0: all), got " +
          llvm::Twine(maxWindows.getValue()));
  if (!perplexityFile.empty() &&
      std::min<int64_t>(windowLen, model.shape.seqLen) < 2)
    fatal(llvm::formatv("--window-len must be at least 2 (and is clipped to "
                        "the model's context of {0}), got {1}",
                        model.shape.seqLen, windowLen.getValue())
              .str());
  if (optLevel > 3)
    fatal("-O takes 0 to 3, got " + llvm::Twine(optLevel.getValue()));
  model.compile();
  if (!dumpLogits.empty())
    dumpPromptLogits(model, tok);
  if (!threadCounts.empty() && !model.usesOpenMP)
    llvm::errs() << "baq-run: note: the lowered module has no threaded "
                    "kernels; --omp-threads only repeats the runs\n";
  SmallVector<unsigned> sweep(threadCounts.begin(), threadCounts.end());
  if (threads.getNumOccurrences())
    sweep.push_back(threads);
  if (sweep.empty())
    sweep.push_back(0);
  for (unsigned n : sweep) {
    if (n)
      model.setThreads(n);
    // With --perplexity, generation follows only when --steps is given: one
    // compilation serves both (benchmarks time prefill and decode in one run).
    if (!perplexityFile.empty() && perplexity(model, tok) != 0)
      return 1;
    if ((perplexityFile.empty() || steps.getNumOccurrences()) &&
        generate(model, tok) != 0)
      return 1;
  }
  return 0;
}
