// RUN: baq-opt %s --baq-test-serialize-launches -split-input-file -verify-diagnostics

module attributes {gpu.container_module} {
  func.func @host() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @kernels {
    gpu.func @k() kernel {
      // expected-error@+1 {{cannot serialize gpu.barrier in a kernel}}
      gpu.barrier
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @kernels {
    // expected-error@+1 {{cannot serialize a kernel with several blocks}}
    gpu.func @k() kernel {
      cf.br ^bb1
    ^bb1:
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @kernels {
    // expected-error@+1 {{cannot serialize a kernel with memory attributions}}
    gpu.func @k() workgroup(%w : memref<4xf32, #gpu.address_space<workgroup>>) kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host() {
    %c1 = arith.constant 1 : index
    %t = gpu.wait async
    // expected-error@+1 {{cannot serialize an asynchronous, clustered or shared-memory launch}}
    %t2 = gpu.launch_func async [%t] @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @kernels {
    gpu.func @k() kernel {
      gpu.return
    }
  }
}

// -----

module attributes {gpu.container_module} {
  func.func @host(%m: memref<4xf32>) {
    %f = arith.constant 0.0 : f32
    // expected-error@+1 {{cannot serialize gpu.memset on the host}}
    gpu.memset %m, %f : memref<4xf32>, f32
    return
  }
}

// -----

module attributes {gpu.container_module} {
  memref.global "private" constant @table : memref<4xf32> = dense<1.0>
  func.func @host() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
  gpu.module @kernels {
    // expected-error@+1 {{device symbol clashes with a different host symbol of the same name}}
    memref.global "private" constant @table : memref<4xf32> = dense<2.0>
    gpu.func @k() kernel {
      gpu.return
    }
  }
}
