"""baq.calibrate against a direct numpy X X^T, and its safetensors round trip."""
import json
import struct

import numpy as np
import pytest

from baq.calibrate import Calibrator, calibrate, read_safetensors, write_safetensors


def test_hessian_matches_direct_product(tmp_path):
    rng = np.random.default_rng(0)
    fc1 = [rng.standard_normal((4, 5, 8)) for _ in range(3)]  # [batch, seq, N]
    fc2 = [rng.standard_normal((7, 3)) for _ in range(2)]
    pairs = [("fc1", x) for x in fc1] + [("fc2", x) for x in fc2]
    hessians = calibrate(pairs, tmp_path / "h.safetensors")
    x1 = np.concatenate([x.reshape(-1, 8) for x in fc1])  # [n, N]
    x2 = np.concatenate(fc2)
    np.testing.assert_allclose(hessians["fc1"], 2.0 / x1.shape[0] * x1.T @ x1, rtol=1e-12)
    np.testing.assert_allclose(hessians["fc2"], 2.0 / x2.shape[0] * x2.T @ x2, rtol=1e-12)
    read = read_safetensors(tmp_path / "h.safetensors")
    assert set(read) == {"fc1", "fc2"}
    assert read["fc1"].dtype == np.float32 and read["fc1"].shape == (8, 8)
    np.testing.assert_allclose(read["fc1"], hessians["fc1"], rtol=1e-6)


def test_float64_accumulation():
    # x x^T = 1e8 then 1000 ones: a float32 sum (ulp 8 at 1e8) would lose them all.
    cal = Calibrator()
    cal.add("big", np.array([[1e4]]))
    for _ in range(1000):
        cal.add("big", np.array([[1.0]]))
    assert cal.hessian("big")[0, 0] == pytest.approx(2.0 / 1001 * (1e8 + 1000), rel=1e-15)


def test_feature_count_mismatch():
    cal = Calibrator()
    cal.add("fc", np.ones((2, 3)))
    with pytest.raises(ValueError, match="4 features, earlier batches had 3"):
        cal.add("fc", np.ones((2, 4)))


def test_file_layout(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"a": np.arange(4.0).reshape(2, 2)}, dtype="F16")
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    assert size % 8 == 0
    header = json.loads(raw[8:8 + size])
    assert header == {"a": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 8]}}
    assert np.frombuffer(raw[8 + size:], "<f2").tolist() == [0.0, 1.0, 2.0, 3.0]
