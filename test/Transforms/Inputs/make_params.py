"""Writes a parameter file for key "w" with the layout of params-errors.mlir
(outputs 4, inputs 6, bits [2, 3, 0, 2, 8, 1], f16 scales and zeros), correct
or broken in one way, as docs/FORMAT.md "Parameter file" describes it.

usage: make_params.py OUT VARIANT
"""
import json
import struct
import sys

out, variant = sys.argv[1], sys.argv[2]
tensors = {
    "w.payload": ("I32", [2], bytes(range(8))),
    "w.scales": ("F16", [4, 1], struct.pack("<4e", 1, 1, 1, 1)),
    "w.zeros": ("F16", [4, 1], struct.pack("<4e", -0.5, -0.5, -0.5, -0.5)),
}
layout = {
    "outputs": 4, "inputs": 6, "channel_dim": 0, "group_size": 0,
    "scale_type": "f16", "zero_type": "f16", "bits": [2, 3, 0, 2, 8, 1],
    "parts": {"payload": {"dtype": "I32", "shape": [2]},
              "scales": {"dtype": "F16", "shape": [4, 1]},
              "zeros": {"dtype": "F16", "shape": [4, 1]}},
}
meta = {"baq.format": "1"}
align = 64
if variant == "dtype":
    tensors["w.scales"] = ("BF16", [4, 1], tensors["w.scales"][2])
elif variant == "shape":
    tensors["w.zeros"] = ("F16", [1, 4], tensors["w.zeros"][2])
elif variant == "missing":
    del tensors["w.zeros"]
elif variant == "bits":
    layout["bits"] = [2, 3, 0, 2, 8, 9]
elif variant == "parts":
    layout["parts"]["payload"]["shape"] = [3]
elif variant == "unaligned":
    align = 4
elif variant == "no-format":
    meta = {}
elif variant not in ("good", "no-layout"):
    sys.exit("unknown variant " + variant)
if variant != "no-layout":
    meta["baq.layout.w"] = json.dumps(layout)
header, blobs, offset = {}, b"", 0
for name, (dtype, shape, data) in tensors.items():
    pad = -offset % align
    blobs += b"\0" * pad
    offset += pad
    header[name] = {"dtype": dtype, "shape": shape,
                    "data_offsets": [offset, offset + len(data)]}
    blobs += data
    offset += len(data)
header["__metadata__"] = meta
text = json.dumps(header).encode()
text += b" " * (-(8 + len(text)) % 64)
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + blobs)
