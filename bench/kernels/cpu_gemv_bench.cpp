//===- cpu_gemv_bench.cpp - BAQ CPU kernel vs OpenBLAS fp32 ---------------===//
//
// Times the CPU lowering of a packed mixed-bitwidth matmul (functions
// @gemv_r<R> of gen_gemv.py, compiled ahead of time by baq-opt
// --baq-lower-cpu=c-interface, mlir-translate and llc) against OpenBLAS
// sgemv (1 row) / sgemm (R rows) on the dequantized fp32 weight, on the same
// activations, in one run, each with 1 thread and with all threads (OpenBLAS'
// default, OMP_NUM_THREADS for the BAQ kernel). Prints medians and ratios.
//
//   cpu_gemv_bench W.f32 M N REPS
//
//===----------------------------------------------------------------------===//

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

template <int Rank> struct MemRef {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};
using MemRef2D = MemRef<2>;

extern "C" {
// C interface of the compiled kernels: result, x, c.
void _mlir_ciface_gemv_r1(MemRef2D *result, MemRef2D *x, MemRef2D *c);
void _mlir_ciface_gemv_r8(MemRef2D *result, MemRef2D *x, MemRef2D *c);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
// libomp, which runs the kernels' parallel loops (baq-lower-cpu parallel).
void omp_set_num_threads(int);
int omp_get_max_threads(void);
}

static MemRef2D view(float *data, int64_t rows, int64_t cols) {
  return {data, data, 0, {rows, cols}, {cols, 1}};
}

using Clock = std::chrono::steady_clock;

template <typename F> static double medianSeconds(int reps, F &&f) {
  std::vector<double> times;
  f(); // warm up (page faults, caches)
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

static double maxRelError(const float *y, const float *ref, int64_t n) {
  double err = 0, mx = 0;
  for (int64_t i = 0; i < n; ++i) {
    err = std::max(err, std::fabs(double(y[i]) - double(ref[i])));
    mx = std::max(mx, std::fabs(double(ref[i])));
  }
  return err / std::max(mx, 1e-30);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s W.f32 M N REPS\n", argv[0]);
    return 2;
  }
  const int64_t m = std::atoll(argv[2]), n = std::atoll(argv[3]);
  const int reps = std::atoi(argv[4]);
  std::vector<float> w(m * n);
  FILE *f = std::fopen(argv[1], "rb");
  if (!f || std::fread(w.data(), sizeof(float), w.size(), f) != w.size()) {
    std::fprintf(stderr, "cannot read %lld x %lld floats from %s\n",
                 (long long)m, (long long)n, argv[1]);
    return 1;
  }
  std::fclose(f);

  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t maxRows = 8;
  std::vector<float> x(maxRows * n), zeros(maxRows * m, 0.0f), ref(maxRows * m),
      y(maxRows * m);
  for (float &v : x)
    v = dist(rng);

  int blasThreads = openblas_get_num_threads();
  int ompThreads = omp_get_max_threads();
  std::printf("%-6s %-32s %12s %10s %12s\n", "rows", "kernel", "median_us",
              "GB/s", "max_rel_err");
  for (int64_t rows : {int64_t(1), maxRows}) {
    auto runBlas = [&] {
      if (rows == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0f, w.data(), n,
                    x.data(), 1, 0.0f, ref.data(), 1);
      else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, n, 1.0f,
                    x.data(), n, w.data(), n, 0.0f, ref.data(), m);
    };
    auto runBaq = [&] {
      // The kernel may update `c` in place (one-shot bufferization treats
      // function arguments as writable): start from zeros every time.
      std::memset(zeros.data(), 0, sizeof(float) * rows * m);
      MemRef2D result, xv = view(x.data(), rows, n),
                       cv = view(zeros.data(), rows, m);
      if (rows == 1)
        _mlir_ciface_gemv_r1(&result, &xv, &cv);
      else
        _mlir_ciface_gemv_r8(&result, &xv, &cv);
      std::memcpy(y.data(), result.aligned + result.offset,
                  sizeof(float) * rows * m);
      std::free(result.allocated);
    };
    double fpBytes = 4.0 * m * n;
    openblas_set_num_threads(1);
    double blas1 = medianSeconds(reps, runBlas);
    openblas_set_num_threads(blasThreads);
    double blasN = medianSeconds(reps, runBlas);
    omp_set_num_threads(1);
    double baq1 = medianSeconds(reps, runBaq);
    omp_set_num_threads(ompThreads);
    double baqN = medianSeconds(reps, runBaq);
    runBlas();
    runBaq();
    double err = maxRelError(y.data(), ref.data(), rows * m);
    const char *blasName = rows == 1 ? "sgemv" : "sgemm";
    std::printf("%-6lld openblas %s fp32, 1 thread%*s %12.1f %10.2f %12s\n",
                (long long)rows, blasName, 2, "", blas1 * 1e6,
                fpBytes / blas1 * 1e-9, "-");
    std::printf("%-6lld openblas %s fp32, %d threads%*s %12.1f %10.2f %12s\n",
                (long long)rows, blasName, blasThreads, 1, "", blasN * 1e6,
                fpBytes / blasN * 1e-9, "-");
    std::printf("%-6lld %-32s %12.1f %10s %12s\n", (long long)rows,
                "baq cpu kernel, 1 thread", baq1 * 1e6, "", "-");
    std::printf("%-6lld baq cpu kernel, %d threads%*s %12.1f %10s %12.2e\n",
                (long long)rows, ompThreads, 9, "", baqN * 1e6, "", err);
    std::printf("%-6lld baq %d threads vs 1: %.2fx; vs 1-thread fp32: %.2fx "
                "(1 thread: %.2fx), vs %d-thread fp32: %.2fx\n",
                (long long)rows, ompThreads, baq1 / baqN, blas1 / baqN,
                blas1 / baq1, blasThreads, blasN / baqN);
  }
  return 0;
}
