// Lowering options are bounded by CUDA's limits and by the size of the
// unrolled kernel bodies; the NVVM target strings are checked before they
// reach upstream's verifier (which aborts on an empty chip). Every bad value
// is an error naming the option, with a non-zero exit.
//
// RUN: not baq-opt %s --baq-lower-cpu="unroll=1000" 2>&1 | FileCheck %s --check-prefix=UNROLL
// UNROLL: error: baq-build-kernels: unroll must be in [0, 8], got 1000
// RUN: not baq-opt %s --baq-lower-cpu="unroll=100000000" 2>&1 | FileCheck %s --check-prefix=UNROLL8
// UNROLL8: error: baq-build-kernels: unroll must be in [0, 8], got 100000000
// RUN: not baq-opt %s --baq-lower-cpu="k-split=100000" 2>&1 | FileCheck %s --check-prefix=KSPLIT
// KSPLIT: error: baq-build-kernels: k-split must be in [0, 256], got 100000
// RUN: not baq-opt %s --baq-lower-nvvm="threads-per-block=4096" 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: baq-build-kernels: threads-per-block must be in [0, 1024], got 4096
// RUN: not baq-opt %s --baq-lower-cpu="decode-max-rows=100" 2>&1 | FileCheck %s --check-prefix=DECODE
// DECODE: error: baq-build-kernels: decode-max-rows must be in [0, 16], got 100
// RUN: not baq-opt %s --baq-lower-cpu="rows-per-thread=64" 2>&1 | FileCheck %s --check-prefix=RPT
// RPT: error: baq-build-kernels: rows-per-thread must be in [0, 16], got 64
// RUN: not baq-opt %s --baq-lower-cpu="accumulators=9" 2>&1 | FileCheck %s --check-prefix=ACC
// ACC: error: baq-build-kernels: accumulators must be in [0, 8], got 9
// RUN: not baq-opt %s --baq-lower-cpu="tile-rows=17" 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: error: baq-build-kernels: tile-rows must be in [0, 16], got 17
// RUN: not baq-opt %s --baq-build-kernels="tile-rows=-1" 2>&1 | FileCheck %s --check-prefix=NEG
// NEG: error: baq-build-kernels: tile-rows must be in [0, 16], got -1
// RUN: not baq-opt %s --baq-lower-cpu="parallel-min-work=-5" 2>&1 | FileCheck %s --check-prefix=MINWORK
// MINWORK: error: baq-lower-cpu: parallel-min-work must be >= 0, got -5
// RUN: not baq-opt %s --baq-lower-cpu="dequant-type=f8" 2>&1 | FileCheck %s --check-prefix=DEQUANT
// DEQUANT: error: baq-lower-cpu: dequant-type must be default, f16 or f32, got 'f8'
// RUN: not baq-opt %s --baq-lower-nvvm="unpack=lut" 2>&1 | FileCheck %s --check-prefix=UNPACK
// UNPACK: error: baq-lower-nvvm: unpack must be default, convert, magic or half2, got 'lut'
//
// Within bounds one by one, too much together: the decode body would unroll
// rows x unroll row-chunks. The error is at the matmul.
// RUN: not baq-opt %s --baq-lower-cpu="unroll=8" 2>&1 | FileCheck %s --check-prefix=PRODUCT
// PRODUCT: lowering-options.mlir:[[# @LINE + 36]]:8: error: decode kernel for 4 activation rows with unroll=8 would unroll 32 row-chunks per loop body (at most 16); lower unroll or decode-max-rows
//
// NVVM target strings.
// RUN: not baq-opt %s --baq-lower-nvvm="chip=" 2>&1 | FileCheck %s --check-prefix=CHIP
// CHIP: error: baq-lower-nvvm: chip must name an SM architecture such as sm_80 or sm_90a, got ''
// RUN: not baq-opt %s --baq-lower-nvvm="chip=gfx90a" 2>&1 | FileCheck %s --check-prefix=AMD
// AMD: error: baq-lower-nvvm: chip must name an SM architecture such as sm_80 or sm_90a, got 'gfx90a'
// RUN: not baq-opt %s --baq-lower-nvvm="chip=sm_9" 2>&1 | FileCheck %s --check-prefix=OLD
// OLD: error: baq-lower-nvvm: chip sm_9 is older than sm_50, the oldest CUDA 12+ compiles for
// RUN: not baq-opt %s --baq-lower-nvvm="chip=sm_90 features=ptx80" 2>&1 | FileCheck %s --check-prefix=FEAT
// FEAT: error: baq-lower-nvvm: features must be a comma-separated list of +feature/-feature (e.g. +ptx80), got 'ptx80'
// RUN: not baq-opt %s --baq-lower-nvvm="chip=sm_90 opt-level=7" 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: error: baq-lower-nvvm: opt-level must be in [0, 3], got 7
// RUN: not baq-opt %s --pass-pipeline="builtin.module(baq-quantize-and-lower-nvvm{chip=})" 2>&1 | FileCheck %s --check-prefix=PIPE
// PIPE: error: baq-lower-nvvm: chip must name an SM architecture such as sm_80 or sm_90a, got ''
// RUN: not baq-opt %s --baq-lower-cpu="kernel-target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET
// TARGET: error: baq-lower-cpu: kernel-target must be 'cpu' or 'gpu', got 'tpu'
//
// The largest accepted values lower.
// RUN: baq-opt %s --baq-lower-nvvm="chip=sm_90a features=+ptx80 unroll=4 k-split=256 threads-per-block=1024 rows-per-thread=16 accumulators=8 tile-rows=16 opt-level=0" | FileCheck %s --check-prefix=MAX
// MAX: gpu.launch_func
// MAX: gpu.module

#layout = #baq.layout<outputs = 4, inputs = 6, channel_dim = 0,
  bits = [2, 3, 0, 2, 8, 1], perm = [4, 1, 0, 3, 5, 2],
  segments = [8, 0, 1, 0, 3, 1, 1, 8, 2, 2, 2, 11, 1, 4, 1, 15],
  group_size = 0, scale_type = f16, zero_type = f16,
  payload_bytes = 8, scale_bytes = 8, zero_bytes = 8>

func.func @kernel(%a: tensor<4x6xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %p, %s, %z = baq.packed_constant #layout
      payload(dense<-1090011385> : tensor<2xi32>)
      scales(dense<1.0> : tensor<4x1xf16>)
      zeros(dense<-0.5> : tensor<4x1xf16>)
  %w = baq.dequantize %p, %s, %z layout(#layout)
      : tensor<2xi32>, tensor<4x1xf16>, tensor<4x1xf16> -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %w : tensor<4x6xf32>, tensor<6x4xf32>)
      outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}
