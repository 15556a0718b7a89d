# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "BAQ"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.baq_obj_root, "test")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%shlibext", config.llvm_shlib_ext))
config.substitutions.append(("%mlir_lib_dir", config.mlir_lib_dir))
config.substitutions.append(("%baq_src_root", config.baq_src_root))
config.substitutions.append(("%baq_libs", os.path.join(config.baq_obj_root, "lib")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.baq_tools_dir, config.llvm_tools_dir]
tools = ["baq-opt", "baq-run", "mlir-opt", "mlir-runner", ToolSubst("%python", "/usr/bin/python3")]
llvm_config.add_tool_substitutions(tools, tool_dirs)

ptxas = "/usr/local/cuda/bin/ptxas"
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
    # gpu-module-to-binary links libdevice (the kernels' expf, sqrtf) from
    # the toolkit that CUDA_HOME names.
    config.environment["CUDA_HOME"] = os.path.dirname(os.path.dirname(ptxas))

# Exhaustive variants of slow executed tests: `lit --param long=1` (or
# BAQ_LONG_TESTS=1) runs the files that declare `REQUIRES: long-tests`.
if lit_config.params.get("long") or os.environ.get("BAQ_LONG_TESTS"):
    config.available_features.add("long-tests")

# The shared model data (never committed): <repo>/../shared/data, or $BAQ_DATA_DIR.
# Tests that need it declare `REQUIRES: stories260k` and read it through %data.
data_dir = os.environ.get("BAQ_DATA_DIR") or os.path.join(
    os.path.dirname(config.baq_src_root), "shared", "data")
if all(os.path.isfile(os.path.join(data_dir, f))
       for f in ("stories260K.bin", "tok512.bin")):
    config.available_features.add("stories260k")
config.substitutions.append(("%data", data_dir))
config.substitutions.append(("%baq_python", os.path.join(config.baq_src_root, "python")))
