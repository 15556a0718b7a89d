#!/usr/bin/env python3
"""Runs @main of an LLVM-dialect module read from stdin with mlir-runner.

Usage: expand_run.py MLIR_RUNNER < module.mlir

The runtime libraries (printMemrefF32) are taken from the lib/ directory
next to the given mlir-runner: the build's MLIR_LIBRARY_DIRS may be empty.
"""
import os
import subprocess
import sys

runner = sys.argv[1]
libdir = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(runner))), "lib")
ext = ".dylib" if sys.platform == "darwin" else ".so"
libs = ",".join(os.path.join(libdir, f"lib{name}{ext}")
                for name in ("mlir_runner_utils", "mlir_c_runner_utils", "omp"))
sys.exit(subprocess.call([runner, "-e", "main", "-entry-point-result=void", "-shared-libs=" + libs]))
