// --baq-expand end to end on the CPU with upstream passes only: generated
// layers are quantized, expanded, given a @main (Inputs/expand_driver.py),
// lowered by stock mlir-opt and run. Inputs/expand_reference.py decodes the
// packed blobs independently (docs/FORMAT.md) and checks the printed outputs
// against numpy; the --baq-lower-cpu result of the same quantized module is
// checked against the reference and against the expand result.
//
// DEFINE: %{lower} = mlir-opt --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// DEFINE:   --convert-linalg-to-loops --convert-scf-to-cf --expand-strided-metadata --finalize-memref-to-llvm \
// DEFINE:   --convert-math-to-llvm --convert-arith-to-llvm --convert-func-to-llvm --convert-cf-to-llvm --reconcile-unrealized-casts
// DEFINE: %{run} = %python %S/Inputs/expand_run.py mlir-runner
// DEFINE: %{driver} = %python %S/Inputs/expand_driver.py
// DEFINE: %{reference} = %python %S/Inputs/expand_reference.py

// [M, N] weight (channel_dim = 1), f32, 3 bits on average: codes straddle
// words; the input is a ramp (the f32 matmul rounds, hence the tolerance).
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --rows 3 --orientation nk --dtype f32 -o %t.a.mlir
// RUN: baq-opt %t.a.mlir --baq-allocate="target-bits=3 progress=false" -o %t.a.q.mlir
// RUN: baq-opt %t.a.q.mlir --baq-expand | %{driver} - | %{lower} | %{run} > %t.a.expand.out
// RUN: %{driver} %t.a.q.mlir | baq-opt --baq-lower-cpu | %{run} > %t.a.cpu.out
// RUN: %{reference} %t.a.q.mlir %t.a.expand.out %t.a.cpu.out --rows 3 | FileCheck %s

// 8-bit scale codes (scale-type=u8): the same checks.
// RUN: baq-opt %t.a.mlir --baq-allocate="target-bits=3 scale-type=u8 progress=false" -o %t.a8.q.mlir
// RUN: FileCheck %s --check-prefix=CODES < %t.a8.q.mlir
// RUN: baq-opt %t.a8.q.mlir --baq-expand | %{driver} - | %{lower} | %{run} > %t.a8.expand.out
// RUN: %{driver} %t.a8.q.mlir | baq-opt --baq-lower-cpu | %{run} > %t.a8.cpu.out
// RUN: %{reference} %t.a8.q.mlir %t.a8.expand.out %t.a8.cpu.out --rows 3 | FileCheck %s
// CODES: scale_type = i8, zero_type = i8

// [N, M] weight (channel_dim = 0), f32, scale groups of 8 channels.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --rows 3 --orientation kn --dtype f32 -o %t.b.mlir
// RUN: baq-opt %t.b.mlir --baq-allocate="target-bits=3 group-size=8 progress=false" -o %t.b.q.mlir
// RUN: baq-opt %t.b.q.mlir --baq-expand | %{driver} - | %{lower} | %{run} > %t.b.expand.out
// RUN: %{driver} %t.b.q.mlir | baq-opt --baq-lower-cpu | %{run} > %t.b.cpu.out
// RUN: %{reference} %t.b.q.mlir %t.b.expand.out %t.b.cpu.out --rows 3 | FileCheck %s

// f16, both orientations, two layers, 0-bit and 1-bit channels: the input
// is the identity, so the f16 matmul returns the dequantized weight exactly.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --layer v:5x37 --rows 37 --orientation nk --dtype f16 -o %t.c.mlir
// RUN: baq-opt %t.c.mlir --baq-allocate="target-bits=1.5 group-size=5 progress=false" -o %t.c.q.mlir
// RUN: baq-opt %t.c.q.mlir --baq-expand | %{driver} - --input-kind identity | %{lower} | %{run} > %t.c.expand.out
// RUN: %{driver} %t.c.q.mlir --input-kind identity | baq-opt --baq-lower-cpu | %{run} > %t.c.cpu.out
// RUN: %{reference} %t.c.q.mlir %t.c.expand.out %t.c.cpu.out --rows 37 --input-kind identity | FileCheck %s --check-prefixes=CHECK,TWO
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --rows 37 --orientation kn --dtype f16 -o %t.d.mlir
// RUN: baq-opt %t.d.mlir --baq-allocate="target-bits=3 progress=false" -o %t.d.q.mlir
// RUN: baq-opt %t.d.q.mlir --baq-expand | %{driver} - --input-kind identity | %{lower} | %{run} > %t.d.expand.out
// RUN: %{driver} %t.d.q.mlir --input-kind identity | baq-opt --baq-lower-cpu | %{run} > %t.d.cpu.out
// RUN: %{reference} %t.d.q.mlir %t.d.expand.out %t.d.cpu.out --rows 37 --input-kind identity | FileCheck %s

// Half a bit per weight: most channels are dropped (0 bits).
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --rows 3 --orientation kn --dtype f32 -o %t.e.mlir
// RUN: baq-opt %t.e.mlir --baq-allocate="target-bits=0.5 progress=false" -o %t.e.q.mlir
// RUN: baq-opt %t.e.q.mlir --baq-expand | %{driver} - | %{lower} | %{run} > %t.e.expand.out
// RUN: %{driver} %t.e.q.mlir | baq-opt --baq-lower-cpu | %{run} > %t.e.cpu.out
// RUN: %{reference} %t.e.q.mlir %t.e.expand.out %t.e.cpu.out --rows 3 | FileCheck %s

// 8-bit zero codes (zero-type=u8, FORMAT.md §4): two f16 layers with groups
// (identity input, so the weights themselves are compared), and act-order.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --layer v:5x37 --rows 37 --orientation kn --dtype f16 --seed 5 -o %t.f.mlir
// RUN: baq-opt %t.f.mlir --baq-allocate="target-bits=2.5 group-size=5 zero-type=u8 progress=false" -o %t.f.q.mlir
// RUN: FileCheck %s --check-prefix=U8 < %t.f.q.mlir
// RUN: baq-opt %t.f.q.mlir --baq-expand | %{driver} - --input-kind identity | %{lower} | %{run} > %t.f.expand.out
// RUN: %{driver} %t.f.q.mlir --input-kind identity | baq-opt --baq-lower-cpu | %{run} > %t.f.cpu.out
// RUN: %{reference} %t.f.q.mlir %t.f.expand.out %t.f.cpu.out --rows 37 --input-kind identity | FileCheck %s --check-prefixes=CHECK,TWO
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer w:13x37 --rows 3 --orientation nk --dtype f32 --seed 6 -o %t.g.mlir
// RUN: baq-opt %t.g.mlir --baq-allocate="target-bits=3 zero-type=u8 act-order=true progress=false" -o %t.g.q.mlir
// RUN: baq-opt %t.g.q.mlir --baq-expand | %{driver} - | %{lower} | %{run} > %t.g.expand.out
// RUN: %{driver} %t.g.q.mlir | baq-opt --baq-lower-cpu | %{run} > %t.g.cpu.out
// RUN: %{reference} %t.g.q.mlir %t.g.expand.out %t.g.cpu.out --rows 3 | FileCheck %s
// U8: zero_type = i8, {{.*}}zeros(dense_resource<w_zeros> : tensor<13x{{[0-9]+}}xi8>)
// U8: zero_type = i8, {{.*}}zeros(dense_resource<v_zeros> : tensor<5x{{[0-9]+}}xi8>)

// CHECK: w bits={{.*}}.expand.out: relative error
// CHECK: w bits={{.*}}.cpu.out: relative error {{.*}}, difference to {{.*}}.expand.out
// TWO: v bits={{.*}}.expand.out: relative error
// TWO: v bits={{.*}}.cpu.out: relative error {{.*}}, difference to {{.*}}.expand.out
// CHECK-NOT: FAIL
// CHECK: OK

// The hand-written layer below (bf16 result, f32 scales, bf16 zeros, groups
// of 2, a 0-bit channel, a 7-bit code straddling words 0 and 1, a 2-bit
// segment in word 2) is checked exactly against values computed by hand.
// RUN: baq-opt %s --baq-expand | %{driver} - --input-kind identity | %{lower} | %{run} | FileCheck %s --check-prefix=HAND
// RUN: %{driver} %s --input-kind identity | baq-opt --baq-lower-cpu | %{run} | FileCheck %s --check-prefix=HAND

// Row i = channel j, column = output; w = (q - zp) * step rounded to bf16 with
// step = s / (2^b - 1) and zp = roundeven(-z / step), e.g. [3, 0]: step = 0.1,
// zp = roundeven(62.5) = 62, (1 - 62) * 0.1 = -6.1 -> -6.09375.
// HAND:      sizes = [7, 2]
// HAND-NEXT: [-29.5,   -64],
// HAND-NEXT: [0,   0],
// HAND-NEXT: [31.5,   -63],
// HAND-NEXT: [-6.09375,   1.46094],
// HAND-NEXT: [1,   0.25],
// HAND-NEXT: [0.200195,   -0.730469],
// HAND-NEXT: [0.683594,   0.207031]]

// Codes (row 0 | row 1): ch0 5|0, ch2 127|1, ch3 1|126, ch5 64|33, ch6 100|77
// (7 bits), ch4 3|2 (2 bits); ch6 occupies stream bits [28, 35): its low 4
// bits end the row's full word, its top 3 start the row's 5-bit tail (row i
// at bit 5 i of word 2: 6 | 3 << 3 = 30 and 4 | 2 << 3 = 20, 30 | 20 << 5 =
// 670).
func.func @hand(%x: tensor<7x7xbf16>) -> tensor<7x2xbf16> {
  %p, %s, %z = baq.packed_constant #baq.layout<outputs = 2, inputs = 7, channel_dim = 0, bits = [7, 0, 7, 7, 2, 7, 7], perm = [0, 2, 3, 5, 6, 4, 1], segments = [7, 0, 5, 0, 2, 5, 1, 35], group_size = 2, scale_type = f32, zero_type = bf16, payload_bytes = 12, scale_bytes = 24, zero_bytes = 12>
      payload(dense<[1207992197, -734035840, 670]> : tensor<3xi32>)
      scales(dense<[[63.5, 12.7, 1.5], [127.0, 3.0, 0.75]]> : tensor<2x3xf32>)
      zeros(dense<[[-32.0, -6.25, -0.5], [-64.0, -1.5, -0.25]]> : tensor<2x3xbf16>)
  %w = baq.dequantize %p, %s, %z layout(#baq.layout<outputs = 2, inputs = 7, channel_dim = 0, bits = [7, 0, 7, 7, 2, 7, 7], perm = [0, 2, 3, 5, 6, 4, 1], segments = [7, 0, 5, 0, 2, 5, 1, 35], group_size = 2, scale_type = f32, zero_type = bf16, payload_bytes = 12, scale_bytes = 24, zero_bytes = 12>)
      : tensor<3xi32>, tensor<2x3xf32>, tensor<2x3xbf16> -> tensor<7x2xbf16>
  %zero = arith.constant 0.0 : bf16
  %empty = tensor.empty() : tensor<7x2xbf16>
  %acc = linalg.fill ins(%zero : bf16) outs(%empty : tensor<7x2xbf16>) -> tensor<7x2xbf16>
  %y = linalg.matmul {baq.bits = #baq.bits<[7, 0, 7, 7, 2, 7, 7]>} ins(%x, %w : tensor<7x7xbf16>, tensor<7x2xbf16>) outs(%acc : tensor<7x2xbf16>) -> tensor<7x2xbf16>
  return %y : tensor<7x2xbf16>
}
