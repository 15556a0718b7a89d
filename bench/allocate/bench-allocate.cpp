//===- bench-allocate.cpp - Time BAQ allocation + GPTQ on one layer -------===//
//
// Reads W (M x N) and H (N x N) as raw little-endian f32 files and times the
// work --baq-allocate does per matmul: Hessian preparation, sensitivities,
// allocation, GPTQ. Prints one line per stage with the median over runs, as
// "stage seconds". Driven by bench/allocate/run.py, which also times the
// PyTorch/numpy reference on the same data and prints the ratios.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/QuantizeLayer.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>

using namespace llvm;
namespace num = baq::numerics;

static cl::opt<std::string> weightFile("weights", cl::desc("raw f32 M x N"),
                                       cl::Required);
static cl::opt<std::string> hessianFile("hessian", cl::desc("raw f32 N x N"),
                                        cl::Required);
static cl::opt<int64_t> rows("m", cl::desc("outputs M"), cl::Required);
static cl::opt<int64_t> cols("n", cl::desc("inputs N"), cl::Required);
static cl::opt<double> targetBits("target-bits", cl::init(2.0));
static cl::opt<bool> uniform("uniform", cl::desc("uniform GPTQ baseline"));
static cl::opt<int> repeats("repeats", cl::init(3));

static std::vector<float> readRaw(StringRef path, int64_t count) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer || (*buffer)->getBufferSize() != count * sizeof(float)) {
    errs() << "bench-allocate: cannot read " << count << " floats from " << path
           << "\n";
    exit(1);
  }
  std::vector<float> out(count);
  std::memcpy(out.data(), (*buffer)->getBufferStart(), count * sizeof(float));
  return out;
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv, "BAQ allocation benchmark\n");
  std::vector<float> w = readRaw(weightFile, rows * cols);
  std::vector<float> h = readRaw(hessianFile, cols * cols);

  num::LayerOptions options;
  options.targetBits = targetBits;
  options.allocator = uniform ? num::Allocator::Uniform : num::Allocator::Exact;
  // The reference does not measure the loss either.
  options.measureLoss = false;

  using clock = std::chrono::steady_clock;
  std::vector<double> prepare, quantize;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = clock::now();
    Expected<num::PreparedHessian> prepared =
        num::prepareHessian(h, cols, num::HessianOptions());
    if (!prepared) {
      errs() << toString(prepared.takeError()) << "\n";
      return 1;
    }
    auto t1 = clock::now();
    Expected<num::LayerResult> result =
        num::quantizeLayer(w, rows, cols, h, *prepared, options);
    if (!result) {
      errs() << toString(result.takeError()) << "\n";
      return 1;
    }
    auto t2 = clock::now();
    prepare.push_back(std::chrono::duration<double>(t1 - t0).count());
    quantize.push_back(std::chrono::duration<double>(t2 - t1).count());
    if (r == 0)
      outs() << "payload_bits " << result->storage.payload / double(rows * cols)
             << "\n";
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  outs() << "prepare " << median(prepare) << "\nquantize " << median(quantize)
         << "\n";
  return 0;
}
