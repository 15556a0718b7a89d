//===- cpu_shared_bench.cpp - shared vs specialised decode kernels --------===//
//
// Times two AOT-compiled lowerings of the same packed matmul side by side in
// one process: @spec_gemv_r<R> (kernels=specialized) and @shared_gemv_r<R>
// (kernels=shared), functions of gen_gemv.py renamed by run_shared_bench.sh
// and found with dlsym (the binary is linked with -rdynamic). Calls alternate
// (spec, shared, spec, ...) so that both kinds see the same machine load;
// prints min and median per kind and their ratio, for each activation row
// count (comma-separated: 1,8 are decode kernels, 32 the tiled one) and
// OpenMP thread count given. Both results are checked against OpenBLAS on
// the dequantized fp32 weight.
//
//   cpu_shared_bench W.f32 M N REPS ROWS THREADS...
//
//===----------------------------------------------------------------------===//

#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

struct MemRef2D {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
};

extern "C" {
void omp_set_num_threads(int);
void openblas_set_num_threads(int);
}

using Kernel = void (*)(MemRef2D *, MemRef2D *, MemRef2D *);
using Clock = std::chrono::steady_clock;

static double maxRelError(const float *y, const float *ref, int64_t n) {
  double err = 0, mx = 0;
  for (int64_t i = 0; i < n; ++i) {
    err = std::max(err, std::fabs(double(y[i]) - double(ref[i])));
    mx = std::max(mx, std::fabs(double(ref[i])));
  }
  return err / std::max(mx, 1e-30);
}

int main(int argc, char **argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s W.f32 M N REPS ROWS THREADS...\n", argv[0]);
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
  std::vector<int64_t> rowCounts;
  for (const char *p = argv[5]; *p;) {
    char *end;
    rowCounts.push_back(std::strtoll(p, &end, 10));
    p = *end ? end + 1 : end;
  }
  const int64_t maxRows = *std::max_element(rowCounts.begin(), rowCounts.end());
  std::vector<float> x(maxRows * n), c(maxRows * m), ref(maxRows * m),
      y(maxRows * m);
  for (float &v : x)
    v = dist(rng);
  openblas_set_num_threads(1);

  std::printf("%-4s %-7s %10s %10s %10s %10s %8s %8s %9s %9s\n", "rows",
              "threads", "spec_min", "spec_med", "shared_min", "shared_med",
              "min_x", "med_x", "spec_err", "shr_err");
  for (int64_t rows : rowCounts) {
    auto lookup = [&](const char *kind) {
      std::string name = std::string("_mlir_ciface_") + kind + "_gemv_r" +
                         std::to_string(rows);
      auto k = reinterpret_cast<Kernel>(dlsym(RTLD_DEFAULT, name.c_str()));
      if (!k) {
        std::fprintf(stderr, "no %s in the binary\n", name.c_str());
        std::exit(1);
      }
      return k;
    };
    Kernel spec = lookup("spec"), shared = lookup("shared");
    if (rows == 1)
      cblas_sgemv(CblasRowMajor, CblasNoTrans, m, n, 1.0f, w.data(), n,
                  x.data(), 1, 0.0f, ref.data(), 1);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, n, 1.0f,
                  x.data(), n, w.data(), n, 0.0f, ref.data(), m);
    // Returns seconds; leaves the result in y.
    auto run = [&](Kernel k) {
      // Kernels may update c in place: start from zeros every time.
      std::memset(c.data(), 0, sizeof(float) * rows * m);
      MemRef2D result, xv = {x.data(), x.data(), 0, {rows, n}, {n, 1}},
                       cv = {c.data(), c.data(), 0, {rows, m}, {m, 1}};
      auto t0 = Clock::now();
      k(&result, &xv, &cv);
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::memcpy(y.data(), result.aligned + result.offset,
                  sizeof(float) * rows * m);
      std::free(result.allocated);
      return s;
    };
    for (int a = 6; a < argc; ++a) {
      int threads = std::atoi(argv[a]);
      omp_set_num_threads(threads);
      run(spec);
      double specErr = maxRelError(y.data(), ref.data(), rows * m);
      run(shared);
      double sharedErr = maxRelError(y.data(), ref.data(), rows * m);
      std::vector<double> ts, tp;
      for (int i = 0; i < reps; ++i) {
        ts.push_back(run(spec));
        tp.push_back(run(shared));
      }
      std::sort(ts.begin(), ts.end());
      std::sort(tp.begin(), tp.end());
      double sMed = ts[reps / 2], pMed = tp[reps / 2];
      std::printf("%-4lld %-7d %10.1f %10.1f %10.1f %10.1f %8.3f %8.3f %9.1e "
                  "%9.1e\n",
                  (long long)rows, threads, ts[0] * 1e6, sMed * 1e6,
                  tp[0] * 1e6, pMed * 1e6, tp[0] / ts[0], pMed / sMed, specErr,
                  sharedErr);
    }
  }
  return 0;
}
