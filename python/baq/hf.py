"""Hugging Face Llama checkpoints as :class:`baq.llama2c.Checkpoint` (memory-mapped, lazy).

A checkpoint is a directory with ``config.json`` (``LlamaForCausalLM``) and either one
``model.safetensors`` or shards ``model-0000x-of-0000y.safetensors`` listed by
``model.safetensors.index.json`` (its ``weight_map``). Tensors may be F32, F16 or BF16; they
are read through an mmap of each file (numpy ``frombuffer``: nothing is loaded until a
tensor is used) and converted to float32 one layer at a time when a consumer asks for it,
so that reading a model does not cost its size in memory.

HF stores ``q_proj``/``k_proj`` with the rows of each head permuted for its "rotate half"
RoPE (``transformers``' ``convert_llama_weights_to_hf.py``: ``permute``); llama2.c (and baq's
forward pass and module) rotate adjacent pairs (Meta's layout), so the loader applies the
inverse (llama2.c ``export.py``'s ``permute_reverse``). :func:`write_hf_checkpoint` writes
the forward direction (tests, synthetic models).

Only what the llama2.c forward pass computes is accepted: SiLU, RMSNorm eps 1e-5, RoPE
theta 10000 without scaling, no attention/MLP biases; anything else is a located error
rather than a silently different model.
"""

from __future__ import annotations

import json
import mmap
import struct
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .calibrate import (MAX_HEADER_BYTES, MAX_HEADER_DEPTH, SafetensorsError, _nesting_depth,
                        _no_duplicates)
from .llama2c import Checkpoint, CheckpointError, Config, LayerStack

# Mapping of the llama2.c tensor kinds to HF names (layer l).
HF_LAYER_NAMES = {
    "rms_att": "model.layers.{l}.input_layernorm.weight",
    "wq": "model.layers.{l}.self_attn.q_proj.weight",
    "wk": "model.layers.{l}.self_attn.k_proj.weight",
    "wv": "model.layers.{l}.self_attn.v_proj.weight",
    "wo": "model.layers.{l}.self_attn.o_proj.weight",
    "rms_ffn": "model.layers.{l}.post_attention_layernorm.weight",
    "w1": "model.layers.{l}.mlp.gate_proj.weight",
    "w2": "model.layers.{l}.mlp.down_proj.weight",
    "w3": "model.layers.{l}.mlp.up_proj.weight",
}
HF_EMBEDDING = "model.embed_tokens.weight"
HF_NORM = "model.norm.weight"
HF_HEAD = "lm_head.weight"

ST_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


def is_hf_checkpoint(path: str | Path) -> bool:
    return Path(path).is_dir()


# ----------------------------------------------------------------------------------------
# safetensors through mmap
# ----------------------------------------------------------------------------------------


class MappedSafetensors:
    """The tensors of one safetensors file as read-only views of an mmap (header checked as
    :func:`baq.calibrate.parse_safetensors` does; F32/F16/BF16, BF16 as raw uint16)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        where = str(self.path)
        try:
            with open(self.path, "rb") as f:
                size = self.path.stat().st_size
                if size < 8:
                    raise SafetensorsError(f"{where}: {size} bytes is too short for a "
                                           f"safetensors header size")
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as e:
            raise SafetensorsError(f"{where}: cannot read: {e.strerror or e}") from e
        (hsize,) = struct.unpack("<Q", self._map[:8])
        if hsize > MAX_HEADER_BYTES or hsize > size - 8:
            raise SafetensorsError(f"{where}: not a valid safetensors header: its size field "
                                   f"says {hsize} bytes, the file has {size - 8} after it")
        try:
            text = self._map[8:8 + hsize].decode("utf-8")
        except UnicodeDecodeError as e:
            raise SafetensorsError(f"{where}: not a valid safetensors header: not UTF-8 at "
                                   f"byte {8 + e.start}") from None
        if _nesting_depth(text) > MAX_HEADER_DEPTH + 1:  # __metadata__ may hold a dict
            raise SafetensorsError(f"{where}: not a valid safetensors header: nested too deep")
        try:
            header = json.loads(text, object_pairs_hook=_no_duplicates)
        except (json.JSONDecodeError, SafetensorsError) as e:
            raise SafetensorsError(f"{where}: not a valid safetensors header: {e}") from None
        if not isinstance(header, dict):
            raise SafetensorsError(f"{where}: not a valid safetensors header (not an object)")
        self._base, data_len = 8 + hsize, size - 8 - hsize
        self.entries: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            bad = f"{where}: tensor {name!r}"
            if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
                raise SafetensorsError(f"{bad}: needs dtype, shape and data_offsets")
            dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
            if dtype not in ST_DTYPES:
                raise SafetensorsError(f"{bad}: dtype {dtype!r} is not one of "
                                       f"{', '.join(ST_DTYPES)}")
            if not isinstance(shape, list) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise SafetensorsError(f"{bad}: shape is not a list of non-negative integers")
            if not (isinstance(offsets, list) and len(offsets) == 2 and all(
                    isinstance(o, int) and not isinstance(o, bool) for o in offsets)):
                raise SafetensorsError(f"{bad}: data_offsets is not [begin, end]")
            begin, end = offsets
            if not 0 <= begin <= end <= data_len:
                raise SafetensorsError(f"{bad}: data_offsets [{begin}, {end}] outside the "
                                       f"{data_len} data bytes")
            need = int(np.prod(shape, dtype=np.int64)) * ST_DTYPES[dtype].itemsize
            if end - begin != need:
                raise SafetensorsError(f"{bad}: {end - begin} data bytes, shape {shape} x "
                                       f"{dtype} needs {need}")
            self.entries[name] = (dtype, tuple(shape), begin, end)

    def raw(self, name: str) -> tuple[str, np.ndarray]:
        """(dtype name, read-only view of the stored elements)."""
        dtype, shape, begin, end = self.entries[name]
        arr = np.frombuffer(self._map, dtype=ST_DTYPES[dtype], count=(end - begin) //
                            ST_DTYPES[dtype].itemsize, offset=self._base + begin)
        return dtype, arr.reshape(shape)

    def float32(self, name: str) -> np.ndarray:
        """The tensor as float32 (a view for F32, a converted copy for F16/BF16)."""
        return to_float32(*self.raw(name))


def to_float32(dtype: str, arr: np.ndarray) -> np.ndarray:
    if dtype == "F32":
        return arr
    if dtype == "F16":
        return arr.astype(np.float32)
    # bfloat16 is the top half of a float32: widen the bits.
    return (arr.astype(np.uint32) << 16).view(np.float32)


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits (uint16), round to nearest even (NaN kept quiet)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return np.where(np.isnan(x), (u >> 16) | 0x40, rounded).astype(np.uint16)


def write_safetensors_raw(path: str | Path, tensors: dict[str, tuple[str, np.ndarray]],
                          metadata: dict[str, str] | None = None) -> None:
    """safetensors with per-tensor dtypes (``name -> (dtype, stored elements)``)."""
    header: dict[str, object] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, (dtype, arr) in tensors.items():
        n = arr.size * ST_DTYPES[dtype].itemsize
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for dtype, arr in tensors.values():
            f.write(np.ascontiguousarray(arr, dtype=ST_DTYPES[dtype]).tobytes())


# ----------------------------------------------------------------------------------------
# rotary permutation
# ----------------------------------------------------------------------------------------


def permute_hf(w: np.ndarray, n_heads: int) -> np.ndarray:
    """Meta/llama2.c q/k rows -> HF's (transformers' ``permute``)."""
    rows, cols = w.shape
    return w.reshape(n_heads, rows // n_heads // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def unpermute_hf(w: np.ndarray, n_heads: int) -> np.ndarray:
    """HF q/k rows -> Meta/llama2.c (llama2.c ``export.py``'s ``permute_reverse``)."""
    rows, cols = w.shape
    return np.ascontiguousarray(
        w.reshape(n_heads, 2, rows // n_heads // 2, cols).swapaxes(1, 2).reshape(rows, cols))


# ----------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------


def _config(path: Path) -> tuple[Config, dict]:
    cfg_path = path / "config.json"
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CheckpointError(f"{cfg_path}: cannot read: {e.strerror or e} (a Hugging Face "
                              f"checkpoint directory needs config.json)") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{cfg_path}: not valid JSON: {e}") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{cfg_path}: not a JSON object")

    def need(key: str) -> int:
        v = raw.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 1 << 22:
            raise CheckpointError(f"{cfg_path}: {key} = {v!r} is missing or implausible")
        return v

    def num(key: str, default: float) -> float:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise CheckpointError(f"{cfg_path}: {key} = {v!r} is not a number")
        return float(v)

    model_type = raw.get("model_type", "llama")
    if model_type != "llama":
        raise CheckpointError(f"{cfg_path}: model_type {model_type!r}: only Llama "
                              f"(LlamaForCausalLM) checkpoints are supported")
    unsupported = []
    if raw.get("hidden_act", "silu") != "silu":
        unsupported.append(f"hidden_act {raw['hidden_act']!r} (SiLU only)")
    if not np.isclose(num("rms_norm_eps", 1e-5), 1e-5, rtol=1e-6, atol=0):
        unsupported.append(f"rms_norm_eps {raw['rms_norm_eps']!r} (1e-5 only)")
    if num("rope_theta", 10000.0) != 10000.0:
        unsupported.append(f"rope_theta {raw['rope_theta']!r} (10000 only)")
    if raw.get("rope_scaling") is not None:
        unsupported.append("rope_scaling")
    if raw.get("attention_bias") or raw.get("mlp_bias"):
        unsupported.append("attention/MLP biases")
    dim, heads = need("hidden_size"), need("num_attention_heads")
    kv = raw.get("num_key_value_heads") or heads
    head_dim = raw.get("head_dim") or dim // heads
    if head_dim * heads != dim:
        unsupported.append(f"head_dim {head_dim} x {heads} heads != hidden_size {dim}")
    if unsupported:
        raise CheckpointError(f"{cfg_path}: unsupported by the llama2.c forward pass: "
                              f"{'; '.join(unsupported)}")
    if dim % heads or not isinstance(kv, int) or kv <= 0 or heads % kv or (dim // heads) % 2:
        raise CheckpointError(f"{cfg_path}: hidden_size {dim}, num_attention_heads {heads}, "
                              f"num_key_value_heads {kv} do not form a Llama attention")
    cfg = Config(dim=dim, hidden_dim=need("intermediate_size"),
                 n_layers=need("num_hidden_layers"), n_heads=heads, n_kv_heads=kv,
                 vocab_size=need("vocab_size"), seq_len=need("max_position_embeddings"),
                 shared_classifier=bool(raw.get("tie_word_embeddings", False)))
    return cfg, raw


def _files(path: Path) -> dict[str, MappedSafetensors]:
    """Tensor name -> the mapped file holding it (single file or index + shards)."""
    index = path / "model.safetensors.index.json"
    single = path / "model.safetensors"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
            raise CheckpointError(f"{index}: not a safetensors index with a weight_map "
                                  f"({e})") from None
        if not isinstance(weight_map, dict):
            raise CheckpointError(f"{index}: weight_map is not an object")
        shards: dict[str, MappedSafetensors] = {}
        out = {}
        for name, shard in weight_map.items():
            if not isinstance(shard, str) or "/" in shard or shard.startswith("."):
                raise CheckpointError(f"{index}: tensor {name!r}: bad shard name {shard!r}")
            if shard not in shards:
                if not (path / shard).is_file():
                    raise CheckpointError(f"{index}: tensor {name!r}: shard {shard} is missing")
                shards[shard] = MappedSafetensors(path / shard)
            if name not in shards[shard].entries:
                raise CheckpointError(f"{index}: tensor {name!r} is not in {shard}")
            out[name] = shards[shard]
        return out
    if single.is_file():
        st = MappedSafetensors(single)
        return {name: st for name in st.entries}
    raise CheckpointError(f"{path}: no model.safetensors or model.safetensors.index.json")


def read_hf_checkpoint(path: str | Path) -> Checkpoint:
    """A Hugging Face Llama checkpoint directory as a lazily converted Checkpoint."""
    path = Path(path)
    cfg, _ = _config(path)
    files = _files(path)
    L, d, hid, kv, V = cfg.n_layers, cfg.dim, cfg.hidden_dim, cfg.kv_dim, cfg.vocab_size
    shapes = {"rms_att": (d,), "rms_ffn": (d,), "wq": (d, d), "wk": (kv, d), "wv": (kv, d),
              "wo": (d, d), "w1": (hid, d), "w2": (d, hid), "w3": (hid, d)}

    def getter(name: str, shape: tuple[int, ...],
               fix: Callable[[np.ndarray], np.ndarray] | None = None) -> Callable[[], np.ndarray]:
        if name not in files:
            raise CheckpointError(f"{path}: tensor {name} is missing")
        got = files[name].entries[name][1]
        if got != shape:
            raise CheckpointError(f"{files[name].path}: tensor {name} has shape "
                                  f"{list(got)}, config.json implies {list(shape)}")
        st = files[name]
        return lambda: (fix or (lambda a: a))(st.float32(name))

    tensors: dict[str, object] = {}
    for kind, pattern in HF_LAYER_NAMES.items():
        fix = None
        if kind == "wq":
            fix = lambda a: unpermute_hf(a, cfg.n_heads)  # noqa: E731
        elif kind == "wk":
            fix = lambda a: unpermute_hf(a, cfg.n_kv_heads)  # noqa: E731
        tensors[kind] = LayerStack([getter(pattern.format(l=l), shapes[kind], fix)
                                    for l in range(L)], (L,) + shapes[kind])
    tensors["token_embedding"] = getter(HF_EMBEDDING, (V, d))()
    tensors["rms_final"] = getter(HF_NORM, (d,))()
    if not cfg.shared_classifier:
        if HF_HEAD not in files:
            raise CheckpointError(f"{path}: tensor {HF_HEAD} is missing (config.json has "
                                  f"tie_word_embeddings false)")
        tensors["wcls"] = getter(HF_HEAD, (V, d))()
    half = cfg.seq_len * cfg.head_size // 2  # run.c's unused legacy tables
    tensors["freq_cis_real"] = np.zeros(half, np.float32)
    tensors["freq_cis_imag"] = np.zeros(half, np.float32)
    return Checkpoint(cfg, tensors)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------
# writing (tests, synthetic models)
# ----------------------------------------------------------------------------------------


def _stored(arr: np.ndarray, dtype: str) -> tuple[str, np.ndarray]:
    arr = np.asarray(arr, dtype=np.float32)
    return (dtype, bf16_bits(arr)) if dtype == "BF16" else (dtype, arr)


def hf_tensors(ckpt: Checkpoint) -> Iterable[tuple[str, np.ndarray]]:
    """(HF name, float32 tensor in HF layout) of a llama2.c checkpoint, in HF order."""
    cfg = ckpt.config
    yield HF_EMBEDDING, np.asarray(ckpt.tensors["token_embedding"])
    for l in range(cfg.n_layers):
        for kind, pattern in HF_LAYER_NAMES.items():
            w = np.asarray(ckpt.tensors[kind][l])
            if kind == "wq":
                w = permute_hf(w, cfg.n_heads)
            elif kind == "wk":
                w = permute_hf(w, cfg.n_kv_heads)
            yield pattern.format(l=l), w
    yield HF_NORM, np.asarray(ckpt.tensors["rms_final"])
    if not cfg.shared_classifier:
        yield HF_HEAD, np.asarray(ckpt.tensors["wcls"])


def hf_config(cfg: Config, dtype: str = "F32") -> dict:
    return {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": cfg.dim, "intermediate_size": cfg.hidden_dim,
            "num_hidden_layers": cfg.n_layers, "num_attention_heads": cfg.n_heads,
            "num_key_value_heads": cfg.n_kv_heads, "vocab_size": cfg.vocab_size,
            "max_position_embeddings": cfg.seq_len, "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0, "hidden_act": "silu",
            "tie_word_embeddings": cfg.shared_classifier,
            "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}


def write_hf_checkpoint(ckpt: Checkpoint, path: str | Path, dtype: str = "F32",
                        shards: int = 1) -> None:
    """Write ``ckpt`` as a HF Llama directory (q/k permuted as HF does); ``shards`` > 1 splits
    the tensors over ``model-0000x-of-0000y.safetensors`` with an index."""
    if dtype not in ST_DTYPES:
        raise ValueError(f"dtype {dtype!r}: one of {', '.join(ST_DTYPES)}")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(hf_config(ckpt.config, dtype), indent=2))
    items = list(hf_tensors(ckpt))
    if shards <= 1:
        write_safetensors_raw(path / "model.safetensors",
                              {n: _stored(a, dtype) for n, a in items}, {"format": "pt"})
        return
    per = -(-len(items) // shards)
    weight_map = {}
    for s in range(shards):
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        part = items[s * per:(s + 1) * per]
        write_safetensors_raw(path / fname, {n: _stored(a, dtype) for n, a in part},
                              {"format": "pt"})
        weight_map.update({n: fname for n, _ in part})
    total = sum(a.size * ST_DTYPES[dtype].itemsize for _, a in items)
    (path / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
