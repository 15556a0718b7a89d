#!/usr/bin/env python3
"""libbaq_cuda_runtime's error paths where no GPU is usable (the toolkit's stub libcuda).

usage: runtime_errors.py LIB

Each case runs in a child process (an error exits the process): the probe's message, the
exit status and message of mgpu* calls that need the device, the installed error handler,
and the calls that must work without a device. Prints one line per case.
"""
import ctypes
import os
import subprocess
import sys

CASES = {
    "probe": """
buf = ctypes.create_string_buffer(256)
print("probe", lib.baqCudaProbe(buf, 256), buf.value.decode())
buf = ctypes.create_string_buffer(8)
print("probe-truncated", lib.baqCudaProbe(buf, 8), repr(buf.value.decode()))
""",
    "alloc": "lib.mgpuMemAlloc(ctypes.c_uint64(64), None, ctypes.c_bool(True))",
    "module-load-jit": "lib.mgpuModuleLoadJIT(ctypes.c_char_p(b'.version 8.0'), 2)",
    "module-load": "lib.mgpuModuleLoad(ctypes.c_char_p(b'x'), ctypes.c_size_t(1))",
    "stream-create": "lib.mgpuStreamCreate()",
    "synchronize": "lib.baqCudaSynchronize()",
    "handler": """
HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
def handler(message):
    print("handler:", message.decode(), flush=True)
    os._exit(3)
keep = HANDLER(handler)
lib.baqCudaSetErrorHandler(keep)
lib.mgpuMemAlloc(ctypes.c_uint64(64), None, ctypes.c_bool(False))
""",
    "no-device-needed": """
lib.mgpuMemFree(None, None)
lib.mgpuSetDefaultDevice(0)
lib.mgpuModuleUnload(None)
print("ok")
""",
}


def main() -> int:
    lib = sys.argv[1]
    for name, body in CASES.items():
        code = (f"import ctypes, os\nlib = ctypes.CDLL({lib!r})\n"
                "lib.mgpuMemAlloc.restype = ctypes.c_void_p\n" + body)
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        out = " | ".join(line for line in (p.stdout + p.stderr).splitlines() if line)
        print(f"{name}: exit {p.returncode}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
