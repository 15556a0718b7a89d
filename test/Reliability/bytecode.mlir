// Bad bytecode and garbage files. Each is rejected with a diagnostic located
// in the input (the bytecode reader reports at <file>:0:0, the pass at the
// op's original location) and a non-zero exit; none may crash: `not` without
// --crash fails the test on a signal.
//
// A valid module with f16 weights, as text and as bytecode.
// RUN: %python %baq_src_root/scripts/gen_synthetic.py --layer q:8x16 --layer k:8x16 --share-hessian q,k --dtype f16 -o %t.mlir
// RUN: baq-opt %t.mlir --emit-bytecode -o %t.mlirbc
// RUN: baq-opt %t.mlirbc --baq-allocate="progress=false" -o /dev/null
//
// 1. Random bytes: not bytecode, so lexed as text.
// RUN: %python -c "import random, sys; r = random.Random(1); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(4096)))" > %t.random
// RUN: not baq-opt %t.random --baq-allocate 2>&1 | FileCheck %s --check-prefix=RANDOM
// RANDOM: .random:1:{{[0-9]+}}: error:
//
// 2. The bytecode magic followed by random bytes.
// RUN: %python -c "import random, sys; r = random.Random(2); sys.stdout.buffer.write(b'ML\xefR' + bytes(r.randrange(256) for _ in range(4096)))" > %t.magic
// RUN: not baq-opt %t.magic --baq-allocate 2>&1 | FileCheck %s --check-prefix=MAGIC
// MAGIC: .magic:0:0: error:
//
// 3. A bytecode version from the future.
// RUN: printf 'ML\357R\307' > %t.version
// RUN: not baq-opt %t.version 2>&1 | FileCheck %s --check-prefix=VERSION
// VERSION: .version:0:0: error: bytecode version 99 is newer than the current version
//
// 4-9. Valid bytecode truncated: after the magic, inside the producer
// string, inside the sections, inside the last resource blob, one byte short.
// RUN: head -c 4 %t.mlirbc > %t.cut4
// RUN: not baq-opt %t.cut4 --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT4
// CUT4: .cut4:0:0: error: attempting to parse a byte at the end of the bytecode
// RUN: head -c 8 %t.mlirbc > %t.cut8
// RUN: not baq-opt %t.cut8 --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT8
// CUT8: .cut8:0:0: error: malformed null-terminated string, no null character found
// RUN: head -c 100 %t.mlirbc > %t.cut100
// RUN: not baq-opt %t.cut100 --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: head -c 1000 %t.mlirbc > %t.cut1000
// RUN: not baq-opt %t.cut1000 --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: head -c -40 %t.mlirbc > %t.cutblob
// RUN: not baq-opt %t.cutblob --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT
// RUN: head -c -1 %t.mlirbc > %t.cutlast
// RUN: not baq-opt %t.cutlast --baq-allocate 2>&1 | FileCheck %s --check-prefix=CUT
// CUT: :0:0: error: attempting to parse {{[0-9]+}} bytes when only {{[0-9]+}} remain
//
// 10. Structurally valid bytecode whose weight blob is too short: the pass
// reports it at the matmul's location in the original text file.
// RUN: %python -c "import sys; t = open(sys.argv[1]).read(); import re; print(re.sub(r'(      q: \"0x[0-9A-F]{8})[0-9A-F]{4}', r'\1', t), end='')" %t.mlir > %t.short.mlir
// RUN: baq-opt %t.short.mlir --emit-bytecode -o %t.short.mlirbc
// RUN: not baq-opt %t.short.mlirbc --baq-allocate="progress=false" 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: .short.mlir:{{[0-9]+}}:{{[0-9]+}}: error: weight resource 'q' holds 254 bytes, but 'tensor<8x16xf16>' needs 256
//
// 11. Bytecode referring to a resource that has no blob.
// RUN: %python -c "import sys; t = open(sys.argv[1]).read(); print(t.replace('dense_resource<k>', 'dense_resource<gone>'), end='')" %t.mlir > %t.gone.mlir
// RUN: baq-opt %t.gone.mlir --emit-bytecode -o %t.gone.mlirbc
// RUN: not baq-opt %t.gone.mlirbc --baq-allocate="progress=false" 2>&1 | FileCheck %s --check-prefix=GONE
// GONE: .gone.mlir:{{[0-9]+}}:{{[0-9]+}}: error: weight resource 'gone' has no data
