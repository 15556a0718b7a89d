// RUN: baq-opt %s --split-input-file --baq-fuse-lop3 | FileCheck %s

// (x & mask) | magic on i32: one lop3.b32 with the mask as an immediate
// (look-up table 0xEA = (a & b) | c).
// CHECK-LABEL: func.func @scalar
// CHECK-SAME: (%[[W:.*]]: i32)
// CHECK: %[[MAGIC:.*]] = arith.constant 1677747200 : i32
// CHECK: %[[R:.*]] = llvm.inline_asm asm_dialect = att "lop3.b32 $0, $1, 0x00030003, $2, 0xEA;", "=r,r,r" %[[W]], %[[MAGIC]] : (i32, i32) -> i32
// CHECK-NOT: arith.andi
// CHECK-NOT: arith.ori
// CHECK: return %[[R]]
func.func @scalar(%w: i32) -> i32 {
  %mask = arith.constant 196611 : i32      // 0x00030003
  %magic = arith.constant 1677747200 : i32 // 0x64006400
  %a = arith.andi %w, %mask : i32
  %o = arith.ori %a, %magic : i32
  return %o : i32
}

// -----

// Vectors go lane by lane; a non-constant mask stays a register operand, the
// OR may come first.
// CHECK-LABEL: func.func @vector
// CHECK-COUNT-2: llvm.inline_asm asm_dialect = att "lop3.b32 $0, $1, $2, $3, 0xEA;", "=r,r,r,r" {{.*}} : (i32, i32, i32) -> i32
// CHECK: vector.from_elements {{.*}} : vector<2xi32>
func.func @vector(%w: vector<2xi32>, %m: vector<2xi32>, %z: vector<2xi32>) -> vector<2xi32> {
  %a = arith.andi %w, %m : vector<2xi32>
  %o = arith.ori %z, %a : vector<2xi32>
  return %o : vector<2xi32>
}

// -----

// Not fused: an AND with another use (it would be computed twice), and i64.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: llvm.inline_asm
// CHECK: arith.andi
// CHECK: arith.ori
// CHECK: arith.andi {{.*}} : i64
// CHECK: arith.ori {{.*}} : i64
func.func @kept(%w: i32, %z: i32, %x: i64, %y: i64) -> (i32, i32, i64) {
  %a = arith.andi %w, %z : i32
  %o = arith.ori %a, %z : i32
  %b = arith.andi %x, %y : i64
  %p = arith.ori %b, %y : i64
  return %a, %o, %p : i32, i32, i64
}
