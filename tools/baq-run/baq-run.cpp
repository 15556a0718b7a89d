//===- baq-run.cpp - Run a whole-model module on the MLIR ExecutionEngine -===//
//
// Takes the tensor-level module that `python -m baq.export_model` writes
// (FP32, or quantized by --baq-allocate), lowers it with --baq-lower-cpu
// (C wrappers on) and JIT-compiles it, then drives its @forward (one token)
// and @prefill (a window of tokens) functions with the llama2.c tokenizer:
// greedy generation as llama2.c's run.c, or perplexity with exactly
// baq.eval's windows. The KV caches are function arguments and results; the
// module returns freshly allocated buffers, which this driver frees.
//
//===----------------------------------------------------------------------===//

#include "baq/Conversion/Passes.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
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
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.mlir>"),
                                      cl::Required);
static cl::opt<std::string> tokenizerFile("tokenizer",
                                          cl::desc("llama2.c tokenizer.bin"),
                                          cl::Required);
static cl::opt<std::string> prompt("prompt", cl::desc("prompt text"),
                                   cl::init(""));
static cl::opt<int64_t>
    steps("steps",
          cl::desc("positions to run, prompt included, as run.c (clipped to "
                   "the model's context); 0: the whole context. With "
                   "--perplexity: generate after it only if given"),
          cl::init(256));
static cl::opt<std::string> perplexityFile(
    "perplexity",
    cl::desc("compute perplexity of this text (stories separated by "
             "<|endoftext|> lines) with baq.eval's windows, instead of "
             "generating"));
static cl::opt<int64_t>
    windowLen("window-len",
              cl::desc("perplexity window length (clipped to the context)"),
              cl::init(512));
static cl::opt<int64_t>
    maxWindows("max-windows",
               cl::desc("evaluate only the first N windows (0: all)"),
               cl::init(0));
static cl::opt<std::string> dumpLogits(
    "dump-logits",
    cl::desc("also write the float32 logits of every prompt position to this "
             "file (row-major [prompt tokens, vocab])"));
static cl::opt<bool>
    noPrefill("no-prefill",
              cl::desc("use @forward only, even where @prefill exists"),
              cl::init(false));
static cl::opt<std::string>
    lowerOptions("lower-options",
                 cl::desc("extra --baq-lower-cpu options, e.g. 'unroll=2'"),
                 cl::init(""));
static cl::opt<unsigned> optLevel("O", cl::desc("LLVM optimization level"),
                                  cl::init(3));
static cl::list<std::string>
    sharedLibs("shared-libs", cl::desc("libraries to load into the JIT"),
               cl::CommaSeparated);
static cl::list<unsigned> threadCounts(
    "omp-threads",
    cl::desc("OpenMP thread counts, e.g. 1,2: runs the perplexity and/or "
             "generation once per count on one compilation, so that their "
             "--timing lines compare side by side (default: one run with "
             "OMP_NUM_THREADS)"),
    cl::CommaSeparated);
static cl::opt<bool> timing("timing",
                            cl::desc("print compile and token rates to stderr"),
                            cl::init(false));

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
  bool usesOpenMP = false; // the lowered module runs kernels on threads
  unsigned threads = 0;    // set by setThreads; 0: OMP_NUM_THREADS

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

  /// Lowers with --baq-lower-cpu and JIT-compiles the module.
  void compile() {
    auto start = std::chrono::steady_clock::now();
    PassManager pm(module->getContext());
    std::string pipeline =
        "baq-lower-cpu{c-interface=true " + lowerOptions + "}";
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (failed(parsePassPipeline(pipeline, pm, os)))
      fatal("bad --lower-options: " + errors);
    if (failed(pm.run(*module)))
      fatal("lowering the module with " + pipeline + " failed");
    lowerSeconds = secondsSince(start);
    start = std::chrono::steady_clock::now();
    std::vector<StringRef> libs(sharedLibs.begin(), sharedLibs.end());
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
    auto maybeEngine = ExecutionEngine::create(*module, options);
    if (!maybeEngine)
      fatal("JIT compilation failed: " +
            llvm::toString(maybeEngine.takeError()));
    engine = std::move(*maybeEngine);
    // The JIT compiles on the first lookup: do it here, not in the first
    // timed call.
    for (StringRef fn : {"_mlir_ciface_forward", "_mlir_ciface_prefill"})
      if (fn == "_mlir_ciface_forward" || prefillTokens > 1)
        if (auto fnOrError = engine->lookupPacked(fn); !fnOrError)
          fatal("JIT compilation failed: " +
                llvm::toString(fnOrError.takeError()));
    jitSeconds = secondsSince(start);
    // At least one element: calloc(0) may return null (0 layers or K = 0).
    size_t n = std::max<size_t>(1, shape.layers * shape.seqLen * shape.kvDim);
    kcache = makeCache(static_cast<float *>(std::calloc(n, sizeof(float))));
    vcache = makeCache(static_cast<float *>(std::calloc(n, sizeof(float))));
  }

  /// Sets the OpenMP team size of the kernels' parallel regions (the JIT
  /// loaded libomp: its symbol is in the process's permanent libraries).
  void setThreads(unsigned n) {
    threads = n;
    if (!usesOpenMP)
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
    if (threads)
      header += llvm::formatv("; threads {0}{1}", threads,
                              usesOpenMP ? "" : " (module not threaded)");
    return header;
  }

  ~Model() {
    std::free(kcache.basePtr);
    std::free(vcache.basePtr);
  }

  /// Runs `tokens` (1 or prefillTokens of them) at `pos`; returns their
  /// logits row-major [tokens, vocab].
  std::vector<float> step(ArrayRef<int32_t> tokens, int64_t pos) {
    std::vector<int32_t> ids(tokens.begin(), tokens.end());
    StridedMemRefType<int32_t, 1> in{
        ids.data(), ids.data(), 0, {static_cast<int64_t>(ids.size())}, {1}};
    StepResults out;
    void *outPtr = &out, *inPtr = &in, *kPtr = &kcache, *vPtr = &vcache;
    SmallVector<void *> args{&outPtr, &inPtr, &pos, &kPtr, &vPtr};
    StringRef fn =
        tokens.size() == 1 ? "_mlir_ciface_forward" : "_mlir_ciface_prefill";
    if (llvm::Error e = engine->invokePacked(fn, args))
      fatal("calling " + fn + ": " + llvm::toString(std::move(e)));
    auto adopt = [](StridedMemRefType<float, 3> &mine,
                    StridedMemRefType<float, 3> &fresh) {
      if (fresh.basePtr != mine.basePtr)
        std::free(mine.basePtr);
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
    std::free(out.logits.basePtr);
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

  StridedMemRefType<float, 3> makeCache(float *data) {
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
                 << decodePhase.report("decode", generated) << "\n";
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
                 << phase.report("perplexity", count) << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  registerAllPasses();
  baq::registerBaqPasses();
  baq::registerBaqLoweringPasses();
  cl::ParseCommandLineOptions(
      argc, argv,
      "baq-run: greedy generation and perplexity of a whole-model module "
      "(baq.export_model, FP32 or quantized) compiled for the CPU\n");
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<baq::BaqDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

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
