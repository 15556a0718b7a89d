"""The independent packed-format reader against a naive packer written in the test."""

from __future__ import annotations

import numpy as np
import pytest
from packer import module, pack, packed_function

from baq.packed import FormatError, Layout, parse_layout, parse_module, total_bits

CASES = [  # (M, N, group_size, scale type, zero type, seed)
    (5, 37, 0, "f16", "f16", 0),
    (7, 45, 16, "f16", "f16", 1),
    (3, 61, 16, "bf16", "f32", 2),
    (4, 33, 5, "f32", "bf16", 3),
    (6, 1, 0, "f16", "f16", 4),
]


def random_bits(rng: np.random.Generator, n: int) -> list[int]:
    b = rng.integers(0, 9, size=n)
    b[: min(n, 9)] = np.arange(9)[: min(n, 9)]  # every width appears, 3/5/6/7 straddle words
    rng.shuffle(b)
    return b.tolist()


@pytest.mark.parametrize("M,N,gs,st,zt,seed", CASES)
@pytest.mark.parametrize("channel_dim", [1, 0])
def test_roundtrip(M: int, N: int, gs: int, st: str, zt: str, seed: int,
                   channel_dim: int) -> None:
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((M, N)).astype(np.float32)
    bits = random_bits(rng, N)
    pk = pack(W, bits, gs, st, zt)
    text = module([packed_function("blk0_wq", pk, channel_dim, array_syntax=seed % 2 == 1)])
    got = parse_module(text)["blk0_wq"]
    np.testing.assert_array_equal(got.weight, pk["W_hat"])
    zero_cols = [j for j, b in enumerate(bits) if b == 0]
    assert not got.weight[:, zero_cols].any()
    # quantization really happened: 8-bit columns are close, low-bit ones are coarse
    err = np.abs(got.weight - W)
    j8 = bits.index(8) if 8 in bits else None
    if j8 is not None:
        assert err[:, j8].max() <= (np.ptp(W, axis=1).max() + 1) / 255 + 1e-3
    lay = got.layout
    assert lay is not None and lay.payload_words == pk["nwords"] and lay.num_groups == pk["G"]
    acc = got.bit_accounting()
    assert acc["payload"] == M * sum(bits)
    assert acc["payload"] + acc["padding"] == 32 * pk["nwords"]
    assert 0 <= acc["padding"] < 32  # FORMAT.md §3: only the last word is padded
    bw = {"f16": 16, "bf16": 16, "f32": 32}
    assert acc["scales"] == M * pk["G"] * bw[st] and acc["zeros"] == M * pk["G"] * bw[zt]
    assert acc["bit_table"] == 4 * N and acc["permutation"] == 0


def test_straddling_codes_exact() -> None:
    """7-bit codes across word boundaries decode exactly; the largest weight lands within
    one step of the range's top (the integer zero point shifts the grid by < 1 step)."""
    N = 13  # 91 bits: codes 4, 9 straddle words 0/1 and 1/2; code 12 (bits 84-90)
    # runs from word 2 into the row's 27-bit tail
    W = np.tile(np.linspace(-1, 1, N, dtype=np.float32), (2, 1))
    pk = pack(W, [7] * N, 0)
    got = parse_module(module([packed_function("f", pk)]))["f"].weight
    np.testing.assert_array_equal(got, pk["W_hat"])
    assert pk["nwords"] == 2 * 2 + 2  # F = 2 words per row, 2 x 27 tail bits
    assert got[0, -1] == pytest.approx(1.0, abs=2.0 / 127)
    assert got[0, N // 2] == 0.0  # 0 is a grid point


def test_reader_rejects_inconsistent_artefacts() -> None:
    rng = np.random.default_rng(7)
    W = rng.standard_normal((3, 10)).astype(np.float32)
    bits = [3, 3, 5, 0, 2, 7, 3, 1, 1, 6]
    pk = pack(W, bits, 0)
    bad_perm = list(pk["order"])
    bad_perm[0], bad_perm[1] = bad_perm[1], bad_perm[0]
    with pytest.raises(FormatError, match="perm"):
        parse_module(module([packed_function("f", pk, perm_override=bad_perm)]))
    pk2 = dict(pk, payload=pk["payload"].copy())
    # 3 rows x 31 bits = 93 bits in 3 words: the top 3 bits of the last are padding
    assert pk["nwords"] == 3
    pk2["payload"][-1] |= np.uint32(1 << 31)
    with pytest.raises(FormatError, match="padding"):
        parse_module(module([packed_function("f", pk2)]))
    pk3 = dict(pk, bits=[9] + bits[1:])
    with pytest.raises(FormatError):
        parse_module(module([packed_function("f", pk3)]))


def test_layout_parse_tolerant_and_honest_bits() -> None:
    lay = parse_layout("#baq.layout<zero_type = bf16, bits = array<i8: 2, 0, 3>, "
                       "group_size = 0, inputs = 3, outputs = 4, scale_type = f32>")
    assert lay.bits.tolist() == [2, 0, 3] and lay.perm.tolist() == [2, 0, 1]
    assert [(s.bits, s.start, s.count, s.bit_offset) for s in lay.segments] == \
        [(3, 0, 1, 0), (2, 1, 1, 3)]
    assert lay.channel_dim == 1 and lay.scale_type == "f32" and lay.zero_type == "bf16"
    # FORMAT.md §6 example: 64 x 64 at 2 bits, one f16 scale + zero per row -> +0.5 bit
    sq = Layout(outputs=64, inputs=64, bits=np.full(64, 2), group_size=0)
    a = sq.bit_accounting()
    assert a["payload"] / 4096 == 2.0 and (a["scales"] + a["zeros"]) / 4096 == 0.5
    assert a["total"] / 4096 == 2.0 + 0.5 + 4 * 64 / 4096
    # 3-bit x 11 channels = 33 bits: one word per row, the 2 x 1 tail bits share a
    # word, 30 padding bits
    odd = Layout(outputs=2, inputs=11, bits=np.full(11, 3)).bit_accounting()
    assert odd["padding"] == 30
    # a 64 x 64 mixed layer wastes < 32 bits: under 0.01 bit per weight
    mixed = Layout(outputs=64, inputs=64, bits=np.r_[np.full(21, 3), np.full(43, 2)])
    assert mixed.bit_accounting()["padding"] / 4096 < 0.01


def test_fp32_passthrough_with_aliases() -> None:
    """What mlir-opt prints for an exported layer: #map aliases, renamed SSA values."""
    W = np.arange(6, dtype=np.float32).reshape(3, 2)
    blob = "0x04000000" + W.tobytes().hex()
    text = f"""#map = affine_map<(d0, d1, d2) -> (d0, d2)>
#map1 = affine_map<(d0, d1, d2) -> (d1, d2)>
#map2 = affine_map<(d0, d1, d2) -> (d0, d1)>
module {{
  func.func @blk0_wo(%arg0: tensor<1x2xf32>) -> tensor<1x3xf32> {{
    %cst = arith.constant dense_resource<blk0_wo> : tensor<3x2xf32>
    %cst_0 = arith.constant 0.000000e+00 : f32
    %0 = tensor.empty() : tensor<1x3xf32>
    %1 = linalg.fill ins(%cst_0 : f32) outs(%0 : tensor<1x3xf32>) -> tensor<1x3xf32>
    %2 = linalg.matmul indexing_maps = [#map, #map1, #map2] {{baq.hessian = dense_resource<h> : tensor<2x2xf32>}} ins(%arg0, %cst : tensor<1x2xf32>, tensor<3x2xf32>) outs(%1 : tensor<1x3xf32>) -> tensor<1x3xf32>
    return %2 : tensor<1x3xf32>
  }}
  func.func @plain(%arg0: tensor<1x3xf32>) -> tensor<1x2xf32> {{
    %cst = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
    %cst_0 = arith.constant 0.000000e+00 : f32
    %0 = tensor.empty() : tensor<1x2xf32>
    %1 = linalg.fill ins(%cst_0 : f32) outs(%0 : tensor<1x2xf32>) -> tensor<1x2xf32>
    %2 = linalg.matmul ins(%arg0, %cst : tensor<1x3xf32>, tensor<3x2xf32>) outs(%1 : tensor<1x2xf32>) -> tensor<1x2xf32>
    return %2 : tensor<1x2xf32>
  }}
}}

{{-#
  dialect_resources: {{
    builtin: {{
      blk0_wo: "{blob}",
      h: "0x0400000000000000000000000000000000000000"
    }}
  }}
#-}}
"""
    ws = parse_module(text)
    np.testing.assert_array_equal(ws["blk0_wo"].weight, W)
    assert ws["blk0_wo"].layout is None
    np.testing.assert_array_equal(ws["plain"].weight, np.array([[1, 3, 5], [2, 4, 6]]))  # [N,M]
    tb = total_bits({"a": ws["blk0_wo"]})
    assert tb["payload_bits_per_weight"] == 32 and tb["total_bits_per_weight"] == 32


def test_grid_domain_edges_and_rejections() -> None:
    """FORMAT.md §4's domain: the same edge grids as
    test/Conversion/BaqToCPU/grid-domain.mlir decode to hand-computed values, and
    non-finite or negative scales and non-finite zeros are rejected."""
    from baq.packed import dequantize
    lay = parse_layout("#baq.layout<outputs = 4, inputs = 2, channel_dim = 0, bits = [2, 2], "
                       "group_size = 0, scale_type = f16, zero_type = f16>")
    payload = np.array([0x7777], np.uint32)  # codes [3, 1] in every row (4-bit tails)
    scales = np.array([[0.0], [3.0], [3.0], [3.0]], np.float32)
    zeros = np.array([[0.0], [1.0], [-10.0], [-1.5]], np.float32)
    W = dequantize(lay, payload, scales, zeros)
    np.testing.assert_array_equal(W, [[0, 0], [3, 1], [0, -2], [1, -1]])
    for bad_s, bad_z, match in ((-1.0, 0.0, r"scales\[2, 0\]"), (np.inf, 0.0, r"scales\[2, 0\]"),
                                (np.nan, 0.0, r"scales\[2, 0\]"), (3.0, np.nan, r"zeros\[2, 0\]"),
                                (3.0, -np.inf, r"zeros\[2, 0\]")):
        s, z = scales.copy(), zeros.copy()
        s[2, 0], z[2, 0] = bad_s, bad_z
        with pytest.raises(FormatError, match=match):
            dequantize(lay, payload, s, z)
    # -0.0 is a valid (zero) scale.
    s = scales.copy()
    s[0, 0] = -0.0
    np.testing.assert_array_equal(dequantize(lay, payload, s, zeros), W)


def test_all_zero_bit_layer_from_baq_opt(tmp_path) -> None:
    """A target so small that every channel gets 0 bits still stores one (s, z) group per
    row (FORMAT.md §4), and the reader accepts what baq-opt wrote: all weights 0."""
    import subprocess
    from conftest import baq_opt
    src = tmp_path / "m.mlir"
    src.write_text("""
func.func @f(%a: tensor<1x6xf32>, %c: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0],
                             [1.0, -1.0, 2.0], [0.5, 0.25, 0.125], [3.0, 2.0, 1.0]]> : tensor<6x3xf32>
  %r = linalg.matmul {baq.hessian = dense<[[2.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0, 0.0, 0.0],
      [0.0, 0.0, 2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 2.0, 0.0],
      [0.0, 0.0, 0.0, 0.0, 0.0, 2.0]]> : tensor<6x6xf32>}
      ins(%a, %w : tensor<1x6xf32>, tensor<6x3xf32>) outs(%c : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %r : tensor<1x3xf32>
}
""")
    out = tmp_path / "q.mlir"
    subprocess.run([str(baq_opt()), str(src), "--baq-allocate=target-bits=0.0001 group-size=4 "
                    "progress=false", "-o", str(out)], check=True)
    (weight,) = parse_module(out.read_text()).values()
    assert weight.layout.nonzero == 0 and weight.layout.num_groups == 1
    np.testing.assert_array_equal(weight.weight, np.zeros((3, 6), np.float32))
def test_zero_point_ties_round_half_even() -> None:
    """The integer zero point of FORMAT.md §4 rounds -zero/step half to even. Hand-computed:
    2 bits, scale 3 -> step 1; every code is 3 (W = 1 packs to the top of a [0, 1] grid).
    zero -2.5 -> zp 2 (half-up: 3), -0.5 -> zp 0 (half-up: 1), -1.5 -> zp 2, so the weights
    (3 - zp) * 1 are 1, 3, 1 (half-up would read 0, 2, 1)."""
    pk = pack(np.ones((3, 1), np.float32), [2], 0)
    assert pk["codes"].tolist() == [[3], [3], [3]]
    pk = dict(pk, scales=np.full((3, 1), 3.0, np.float32),
              zeros=np.array([[-2.5], [-0.5], [-1.5]], np.float32))
    for channel_dim in (1, 0):
        got = parse_module(module([packed_function("f", pk, channel_dim)]))["f"].weight
        assert got.tolist() == [[1.0], [3.0], [1.0]]


def test_zero_codes_hand_computed() -> None:
    """8-bit zero codes (zero_type = i8, FORMAT.md §4): z = -((s * zq) / 255), hand-computed.
    2 bits, codes [3, 1] in every row, scale 3 (step 1): zq 255 -> z -3, zp 3 -> [0, -2];
    zq 85 -> z -1, zp 1 -> [2, 0]; zq 170 -> z -2, zp 2 -> [1, -1]; a zero scale gives 0.
    The i8 storage is read as unsigned (255 arrives as -1 from the signed MLIR text)."""
    from baq.packed import dequantize
    lay = parse_layout("#baq.layout<outputs = 4, inputs = 2, channel_dim = 0, bits = [2, 2], "
                       "group_size = 0, scale_type = f16, zero_type = i8>")
    assert lay.zero_type == "i8" and lay.bit_accounting()["zeros"] == 4 * 8
    payload = np.array([0x7777], np.uint32)
    scales = np.array([[0.0], [3.0], [3.0], [3.0]], np.float32)
    zq = np.array([[0], [-1], [85], [-86]], np.int8)
    np.testing.assert_array_equal(dequantize(lay, payload, scales, zq),
                                  [[0, 0], [0, -2], [2, 0], [1, -1]])
    with pytest.raises(FormatError, match="unsupported zero type ui8"):
        parse_layout("#baq.layout<outputs = 1, inputs = 1, bits = [2], group_size = 0, "
                     "scale_type = f16, zero_type = ui8>")


def test_scale_codes_hand_computed() -> None:
    """8-bit scale codes (scale_type = i8, FORMAT.md §4): s = (16 + c % 16) 2^(c // 16 - 16),
    0 for c = 0, exact in f32; read as unsigned (200 arrives as -56 from the MLIR text)."""
    from baq.packed import decode_scale_codes, dequantize
    c = np.arange(256)
    expect = np.where(c == 0, 0.0, (16 + c % 16) * 2.0 ** (c // 16 - 16))
    got = decode_scale_codes(c.astype(np.uint8).view(np.int8))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.astype(np.float64), expect)
    assert got[1] == np.float32(17 * 2.0 ** -16) and got[255] == np.float32(15.5)
    assert got[176] == np.float32(0.5) and got[200] == np.float32(1.5)
    lay = parse_layout("#baq.layout<outputs = 3, inputs = 2, channel_dim = 0, bits = [2, 2], "
                       "group_size = 0, scale_type = i8, zero_type = i8>")
    assert lay.scale_type == "i8" and lay.bit_accounting()["scales"] == 3 * 8
    payload = np.array([0x777], np.uint32)  # codes [3, 1] in every row
    codes = np.array([[0], [-80], [-56]], np.int8)  # 0, 176 (0.5), 200 (1.5)
    zq = np.zeros((3, 1), np.int8)  # z = 0: zp = 0
    step = np.array([0.0, 0.5, 1.5], np.float32) / np.float32(3)
    np.testing.assert_array_equal(dequantize(lay, payload, codes, zq),
                                  np.stack([np.float32(3) * step, step], axis=1))
    with pytest.raises(FormatError, match="unsupported scale type ui8"):
        parse_layout("#baq.layout<outputs = 1, inputs = 1, bits = [2], group_size = 0, "
                     "scale_type = ui8, zero_type = i8>")


def test_zero_codes_from_baq_opt(tmp_path) -> None:
    """`--baq-allocate zero-type=u8` writes i8 zero codes that the reader decodes, and the
    reader's honest bits (8 per zero) equal the allocator's report at budget=total."""
    import json
    import subprocess
    import sys
    from conftest import REPO, baq_opt
    src, out, rep = tmp_path / "m.mlir", tmp_path / "q.mlir", tmp_path / "r.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_synthetic.py"), "--layer",
                    "q:64x64", "--layer", "w2:64x172", "--seed", "4", "-o", str(src)], check=True)
    subprocess.run([str(baq_opt()), str(src), "--baq-allocate=target-bits=2.47 budget=total "
                    f"zero-type=u8 report={rep} progress=false", "-o", str(out)], check=True)
    ws = parse_module(out.read_text())
    report = json.loads(rep.read_text())
    assert report["options"]["zero_type"] == "u8"
    for m in report["matmuls"]:
        rows, cols = m["shape"]
        acc = ws[m["name"]].bit_accounting()
        assert ws[m["name"]].layout.zero_type == "i8"
        assert acc["zeros"] == rows * 8
        assert acc["total"] / (rows * cols) == pytest.approx(m["bits"]["total"], abs=1e-12)
    tb = total_bits(ws)
    assert tb["total_bits_per_weight"] == pytest.approx(report["total"]["total_bits_per_weight"],
                                                        abs=1e-12)
    assert tb["total_bits_per_weight"] <= 2.47
