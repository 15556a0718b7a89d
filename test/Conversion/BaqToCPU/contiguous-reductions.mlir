// baq-contiguous-reductions: a reduction over the inputs' contiguous
// dimension moves innermost and its accumulating add becomes reassociable;
// other generics are left alone.
// RUN: baq-opt %s --split-input-file --baq-contiguous-reductions | FileCheck %s

// Attention's q.k: [1, heads, 1, head_dim (reduction), positions] becomes
// [1, heads, 1, positions, head_dim].
// CHECK-DAG:   #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG:   #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4)>
// CHECK-DAG:   #[[S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @attention_scores
// CHECK:         linalg.generic {indexing_maps = [#[[Q]], #[[K]], #[[S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK:           arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK:           arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
#q = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#k = affine_map<(d0, d1, d2, d3, d4) -> (d4, d1, d3)>
#s = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
func.func @attention_scores(%q: tensor<1x4x1x8xf32>, %k: tensor<?x4x8xf32>, %init: tensor<1x4x1x?xf32>) -> tensor<1x4x1x?xf32> {
  %0 = linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%q, %k : tensor<1x4x1x8xf32>, tensor<?x4x8xf32>) outs(%init : tensor<1x4x1x?xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %1 = arith.mulf %a, %b : f32
    %2 = arith.addf %out, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<1x4x1x?xf32>
  return %0 : tensor<1x4x1x?xf32>
}

// -----

// RMSNorm's sum of squares: already innermost, only reassociable.
// CHECK-LABEL: func.func @sum_of_squares
// CHECK:         iterator_types = ["parallel", "reduction"]
// CHECK:           arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
func.func @sum_of_squares(%x: tensor<1x16xf32>, %init: tensor<1xf32>) -> tensor<1xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<1x16xf32>) outs(%init : tensor<1xf32>) {
  ^bb0(%a: f32, %out: f32):
    %1 = arith.mulf %a, %a : f32
    %2 = arith.addf %out, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

// Attention's p.v reduces over positions, which are not the values'
// contiguous dimension (the head dimension is, and is innermost already):
// unchanged. So is a max, which is no add.
// CHECK-LABEL: func.func @attention_values
// CHECK:         iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]
// CHECK:           arith.addf %{{.*}}, %{{.*}} : f32
// CHECK-NOT:       fastmath
// CHECK:         iterator_types = ["parallel", "reduction"]
// CHECK:           arith.maximumf %{{.*}}, %{{.*}} : f32
#p = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
#v = affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4)>
#o = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
func.func @attention_values(%p: tensor<1x4x1x?xf32>, %v: tensor<?x4x8xf32>, %init: tensor<1x4x1x8xf32>, %x: tensor<1x16xf32>, %m: tensor<1xf32>) -> (tensor<1x4x1x8xf32>, tensor<1xf32>) {
  %0 = linalg.generic {indexing_maps = [#p, #v, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%p, %v : tensor<1x4x1x?xf32>, tensor<?x4x8xf32>) outs(%init : tensor<1x4x1x8xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %1 = arith.mulf %a, %b : f32
    %2 = arith.addf %out, %1 : f32
    linalg.yield %2 : f32
  } -> tensor<1x4x1x8xf32>
  %3 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<1x16xf32>) outs(%m : tensor<1xf32>) {
  ^bb0(%a: f32, %out: f32):
    %4 = arith.maximumf %out, %a : f32
    linalg.yield %4 : f32
  } -> tensor<1xf32>
  return %0, %3 : tensor<1x4x1x8xf32>, tensor<1xf32>
}
