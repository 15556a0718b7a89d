#!/usr/bin/env python3
"""Writes one crafted safetensors file for the reader's tests:

    craft_safetensors.py OUT CASE

A CASE is a header text, the data bytes and the declared header size (the
true size, or an offset from it); see CASES. `fc1` is a 4x4 F32 identity, the
Hessian test/Reliability/safetensors-headers.mlir expects.
"""
import struct
import sys

IDENTITY = struct.pack("<16f", *[1.0 if i % 5 == 0 else 0.0 for i in range(16)])
FC1 = '"fc1":{"dtype":"F32","shape":[4,4],"data_offsets":[0,64]}'


def deep(levels):
    return '{"fc1":' + "[" * levels + "]" * levels + "}"


# name: (header text, data, declared size relative to the true one)
CASES = {
    "valid": ("{" + FC1 + "}", IDENTITY, 0),
    # The size field against the file: size - 1, size, size + 1 (below).
    "header-plus-1": ("{" + FC1 + "}", b"", 1),
    "header-exact-no-data": ("{" + FC1 + "}", b"", 0),
    # Nesting: a valid header is 3 levels deep; 4, and ~100 KB of it.
    "depth-4": ('{"fc1":{"dtype":"F32","shape":[[4],4],"data_offsets":[0,64]}}',
                IDENTITY, 0),
    "deep": (deep(50000), b"", 0),
    "deep-object": ('{"a":' * 50000 + "1" + "}" * 50000, b"", 0),
    # Brackets inside strings are not nesting.
    "brackets-in-strings": ('{"__metadata__":{"note":"[[[[{{{{"},' + FC1 + "}",
                            IDENTITY, 0),
    # llvm::json::parse keeps the last of duplicate keys silently.
    "duplicate": ("{" + FC1 + "," + FC1.replace("[0,64]", "[64,128]") + "}",
                  IDENTITY + IDENTITY, 0),
    "duplicate-escaped": ("{" + FC1 + "," + FC1.replace('"fc1"', '"f\\u00631"')
                          .replace("[0,64]", "[64,128]") + "}",
                          IDENTITY + IDENTITY, 0),
    "duplicate-field": ('{"fc1":{"dtype":"F16","dtype":"F32","shape":[4,4],'
                        '"data_offsets":[0,64]}}', IDENTITY, 0),
    # 2^62 x 4 bytes wraps int64_t: "too large", not a negative count.
    "too-large": ('{"fc1":{"dtype":"F32","shape":[4,4611686018427387904],'
                  '"data_offsets":[0,64]}}', IDENTITY, 0),
    "too-large-elements": ('{"fc1":{"dtype":"U8","shape":[4294967296,4294967296],'
                           '"data_offsets":[0,64]}}', IDENTITY, 0),
    # 2^63 as a double passes the range check of llvm::json's getAsInteger,
    # which then converts it to int64_t out of range (undefined behaviour).
    "float-dim": ('{"fc1":{"dtype":"F32","shape":[9.223372036854775808e18,4],'
                  '"data_offsets":[0,64]}}',
                  IDENTITY, 0),
    "negative-dim": ('{"fc1":{"dtype":"F32","shape":[-4,4],"data_offsets":[0,64]}}',
                     IDENTITY, 0),
    "negative-offset": ('{"fc1":{"dtype":"F32","shape":[4,4],"data_offsets":[-1,64]}}',
                        IDENTITY, 0),
    # 2^64 is beyond uint64_t (a double to llvm::json); 2^64 - 1 is not.
    "huge-offset": ('{"fc1":{"dtype":"F32","shape":[4,4],'
                    '"data_offsets":[0,18446744073709551616]}}', IDENTITY, 0),
    "max-offset": ('{"fc1":{"dtype":"F32","shape":[4,4],'
                   '"data_offsets":[0,18446744073709551615]}}', IDENTITY, 0),
    "reversed-offsets": ('{"fc1":{"dtype":"F32","shape":[4,4],"data_offsets":[64,0]}}',
                         IDENTITY, 0),
    # Data bounds: end = size (valid), size + 1.
    "end-plus-1": ('{"fc1":{"dtype":"F32","shape":[4,4],"data_offsets":[1,65]}}',
                   IDENTITY, 0),
    "dtype-mismatch": ('{"fc1":{"dtype":"F16","shape":[4,4],"data_offsets":[0,64]}}',
                       IDENTITY, 0),
    "not-object": ('["fc1"]', b"", 0),
    "metadata-not-strings": ('{"__metadata__":{"n":1},' + FC1 + "}", IDENTITY, 0),
    "empty-header": ("", b"", 0),
}


def main():
    out, case = sys.argv[1:]
    header, data, delta = CASES[case]
    text = header.encode()
    text += b" " * (-len(text) % 8)
    declared = len(text) + delta
    with open(out, "wb") as f:
        f.write(struct.pack("<Q", declared) + text + data)


if __name__ == "__main__":
    main()
