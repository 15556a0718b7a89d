// The nested (multithreaded) pipeline gives the same bytes on every run
// (issue 22, class 5). Eight functions read one ml_program.global, one
// memref.global, one dense_resource constant (key `shared`) and a
// NameLoc-named constant; each instance quantizes its own copy with its own
// Hessian. The blob names used to be `<weight>_payload`, `_payload_1`, ...
// in the order the threads reached the resource manager (19 distinct
// outputs in 20 runs); they are now qualified by the function, which is
// unique among the instances that run concurrently.
//
// RUN: %python %S/Inputs/shared_globals.py --functions 8 > %t.mlir
// RUN: %python %S/Inputs/repeat_cmp.py 20 baq-opt %t.mlir "--pass-pipeline=builtin.module(func.func(baq-allocate{target-bits=3 progress=false}))" | FileCheck %s --check-prefix=SAME
// SAME: runs 20 distinct outputs 1
// SAME-NEXT: OK
//
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(func.func(baq-allocate{target-bits=3 progress=false}))" | FileCheck %s --check-prefix=NAMES
// NAMES-LABEL: func.func @f0
// NAMES-DAG: payload(dense_resource<f0.wq_payload>
// NAMES-DAG: payload(dense_resource<f0.wm_payload>
// NAMES-DAG: payload(dense_resource<f0.shared_payload>
// NAMES-DAG: payload(dense_resource<f0.fc_payload>
// NAMES-LABEL: func.func @f7
// NAMES-DAG: payload(dense_resource<f7.wq_payload>
// NAMES-DAG: payload(dense_resource<f7.fc_payload>
// A weight named after its own function keeps the module run's name.
// NAMES-LABEL: func.func @self
// NAMES: payload(dense_resource<self_payload>
// NAMES-NOT: _payload_1
//
// On the module the names are unqualified (one instance, one walk order):
// each weight is quantized once for all its readers.
// RUN: baq-opt %t.mlir --baq-allocate="target-bits=3 progress=false" | FileCheck %s --check-prefix=MODULE
// MODULE-LABEL: func.func @f0
// MODULE-DAG: payload(dense_resource<wq_payload>
// MODULE-DAG: payload(dense_resource<shared_payload>
//
// The report of a nested run: one file per function instead of eight
// instances racing for one (r.json -> r.f0.json, ...); the same on every run.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(func.func(baq-allocate{target-bits=3 progress=false report=%t.dir/r.json}))" -o %t.nested.mlir
// RUN: ls %t.dir | FileCheck %s --check-prefix=FILES
// FILES: r.f0.json
// FILES: r.f7.json
// FILES: r.self.json
// RUN: cp %t.dir/r.f3.json %t.first.json
// RUN: baq-opt %t.mlir --pass-pipeline="builtin.module(func.func(baq-allocate{target-bits=3 progress=false report=%t.dir/r.json}))" | cmp - %t.nested.mlir
// RUN: cmp %t.dir/r.f3.json %t.first.json
// RUN: %python -c "import json; print([m['name'] for m in json.load(open('%t.dir/r.f3.json'))['matmuls']])" | FileCheck %s --check-prefix=REPORT
// REPORT: ['wq', 'wm', 'shared', 'fc']
