"""Prints a parameter file's header as docs/FORMAT.md "Parameter file" defines
it, read independently of the C++ reader: each tensor's dtype, shape, offsets
and 64-byte alignment, the metadata, and each layout's fields."""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    data = f.read()
(size,) = struct.unpack("<Q", data[:8])
start = 8 + size
header = json.loads(data[8:start])
print(f"data starts at {start}, aligned {start % 64 == 0}")
meta = header.pop("__metadata__")
for name, t in header.items():
    begin, end = t["data_offsets"]
    print(f"tensor {name} {t['dtype']} {t['shape']} bytes {end - begin} "
          f"aligned {(start + begin) % 64 == 0} data {data[start + begin:start + end].hex()}")
for key, value in meta.items():
    if key.startswith("baq.layout."):
        layout = json.loads(value)
        parts = " ".join(f"{p}={v['dtype']}{v['shape']}" for p, v in layout["parts"].items())
        print(f"layout {key[len('baq.layout.'):]} outputs {layout['outputs']} inputs "
              f"{layout['inputs']} channel_dim {layout['channel_dim']} bits {layout['bits']} "
              f"group_size {layout['group_size']} scale_type {layout['scale_type']} "
              f"zero_type {layout['zero_type']} {parts}")
    else:
        print(f"meta {key} = {value}")
