// unpack=half2: the kernel nests (a gather of f16 activation pairs, the
// decode loop on the repacked payload) and what --baq-lower-nvvm makes of
// the unpacking: one lop3.b32 per two codes with the mask as an immediate
// and the f16 magic 0x64006400 (1677747200) in a register, an f16x2
// subtract of 1024 and an f16x2 FMA. Executed on the CPU by
// BaqToCPU/half2.mlir; the pair unpacking is tested exhaustively by
// unittests/Conversion/DecodeHalf2Test.cpp.

// RUN: %gen_case --bits 2 --m 8 --n 64 --rows 1 | baq-opt --baq-build-kernels="target=gpu unpack=half2" | FileCheck %s --check-prefix=NEST
// RUN: %gen_case --bits 2 --m 8 --n 64 --rows 1 | baq-opt --baq-lower-nvvm="chip=sm_90 unpack=half2" | FileCheck %s --check-prefix=NVVM

// NEST: baq_kernel = "baq_gather"
// NEST: arith.truncf {{.*}} : f32 to f16
// NEST: arith.bitcast {{.*}} : f16 to i16
// NEST: baq_kernel = "baq_gather_half2"
// NEST: baq_kernel = "baq_activation_sums"
// NEST: scf.for
// NEST: vector.transfer_read {{.*}} : tensor<32xi32>, vector<4xi32>
// NEST: vector.transfer_read {{.*}} : tensor<1x32xi32>, vector<4xi32>
// NEST: vector.bitcast {{.*}} : vector<4xi32> to vector<8xf16>
// NEST: %[[MASKED:.*]] = arith.andi {{.*}} : vector<4xi32>
// NEST: %[[PAIR:.*]] = arith.ori %[[MASKED]], %{{.*}} : vector<4xi32>
// NEST: %[[HALVES:.*]] = vector.bitcast %[[PAIR]] : vector<4xi32> to vector<8xf16>
// NEST: %[[CODES:.*]] = arith.subf %[[HALVES]], %{{.*}} : vector<8xf16>
// NEST: %[[X:.*]] = vector.shuffle {{.*}} [0, 1, 0, 1, 0, 1, 0, 1] : vector<8xf16>, vector<8xf16>
// NEST: math.fma %[[CODES]], %[[X]], %{{.*}} : vector<8xf16>
// NEST: arith.extf {{.*}} : vector<8xf16> to vector<8xf32>
// NEST: baq_kernel = "baq_decode"

// NVVM-LABEL: gpu.module @kernel_baq_decode
// NVVM: %[[MAGIC:.*]] = llvm.mlir.constant(1677747200 : i32) : i32
// NVVM: llvm.inline_asm asm_dialect = att "lop3.b32 $0, $1, 0x00030003, $2, 0xEA;", "=r,r,r" %{{.*}}, %[[MAGIC]] : (i32, i32) -> i32
// NVVM: llvm.fsub {{.*}} : vector<8xf16>
// NVVM: llvm.intr.fma({{.*}}) : (vector<8xf16>, vector<8xf16>, vector<8xf16>) -> vector<8xf16>
// NVVM: llvm.inline_asm asm_dialect = att "lop3.b32 $0, $1, 0x000c000c, $2, 0xEA;"
