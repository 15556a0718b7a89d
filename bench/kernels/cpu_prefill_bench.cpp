//===- cpu_prefill_bench.cpp - BAQ tiled (prefill) kernel vs OpenBLAS -----===//
//
// Times @gemv_r<ROWS> of gen_gemv.py (compiled ahead of time with
// baq-opt --baq-lower-cpu=c-interface, mlir-translate, llc) against OpenBLAS
// sgemm on the dequantized fp32 weight, same activations, at 1 and 2
// threads, alternating engines within each repetition so that load changes
// hit both. Prints min and median per engine and the ratios of the medians.
//
//   cpu_prefill_bench W.f32 M N REPS      (built with -DBAQ_ROWS=32)
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

#ifndef BAQ_ROWS
#define BAQ_ROWS 32
#endif
#define BAQ_CAT2(a, b) a##b
#define BAQ_CAT(a, b) BAQ_CAT2(a, b)
#define BAQ_KERNEL BAQ_CAT(_mlir_ciface_gemv_r, BAQ_ROWS)

struct MemRef2D {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

extern "C" {
void BAQ_KERNEL(MemRef2D *result, MemRef2D *x, MemRef2D *c);
void openblas_set_num_threads(int);
void omp_set_num_threads(int);
}

using Clock = std::chrono::steady_clock;

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s W.f32 M N REPS\n", argv[0]);
    return 2;
  }
  const int64_t m = std::atoll(argv[2]), n = std::atoll(argv[3]);
  const int64_t rows = BAQ_ROWS;
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
  std::vector<float> x(rows * n), c(rows * m), ref(rows * m), y(rows * m);
  for (float &v : x)
    v = dist(rng);

  auto runBlas = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, n, 1.0f,
                x.data(), n, w.data(), n, 0.0f, ref.data(), m);
  };
  auto runBaq = [&] {
    // The kernel may update `c` in place: start from zeros every time.
    std::memset(c.data(), 0, sizeof(float) * rows * m);
    MemRef2D result, xv{x.data(), x.data(), 0, {rows, n}, {n, 1}},
        cv{c.data(), c.data(), 0, {rows, m}, {m, 1}};
    BAQ_KERNEL(&result, &xv, &cv);
    std::memcpy(y.data(), result.aligned + result.offset,
                sizeof(float) * rows * m);
    if (result.allocated != c.data())
      std::free(result.allocated);
  };
  auto time = [](auto &&fn) {
    auto t0 = Clock::now();
    fn();
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  double flops = 2.0 * rows * m * n;
  std::printf("%lld rows x %lld x %lld, %d reps\n", (long long)rows,
              (long long)m, (long long)n, reps);
  for (int threads : {1, 2}) {
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    runBlas(); // warm up
    runBaq();
    std::vector<double> tb, tq;
    for (int i = 0; i < reps; ++i) {
      tb.push_back(time(runBlas));
      tq.push_back(time(runBaq));
    }
    std::sort(tb.begin(), tb.end());
    std::sort(tq.begin(), tq.end());
    double err = 0, mx = 0;
    for (int64_t i = 0; i < rows * m; ++i) {
      err = std::max(err, std::fabs(double(y[i]) - double(ref[i])));
      mx = std::max(mx, std::fabs(double(ref[i])));
    }
    double mb = tb[reps / 2], mq = tq[reps / 2];
    std::printf("threads %d: openblas sgemm min %.1f median %.1f us (%.1f "
                "GFLOP/s); baq min %.1f median %.1f us (%.1f GFLOP/s); "
                "baq/sgemm speed %.2fx (min %.2fx); max rel err %.1e\n",
                threads, tb[0] * 1e6, mb * 1e6, flops / mb * 1e-9, tq[0] * 1e6,
                mq * 1e6, flops / mq * 1e-9, mb / mq, tb[0] / tq[0],
                err / std::max(mx, 1e-30));
  }
  return 0;
}
