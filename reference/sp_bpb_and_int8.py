#!/usr/bin/env python3
"""Goldens for mixlab's parameter-golf evaluation: val_bpb byte counts and the int8 quantizer.

Usage (from the repo root, on a machine with numpy and sentencepiece):
    python3 reference/sp_bpb_and_int8.py [OUT_DIR]             # both goldens; default src/test/resources/golden
    python3 reference/sp_bpb_and_int8.py --int8-only [OUT_DIR] # numpy only: int8_quant.safetensors
    python3 reference/sp_bpb_and_int8.py --bpb-only [OUT_DIR]  # sp_bpb.json

Writes
    OUT_DIR/sp_bpb.json                the reference trainer's byte lookup tables for the committed
                                       src/test/resources/sp/shakespeare_1024_bpe.model, a token
                                       sequence, and the bytes of each of its targets
    OUT_DIR/int8_quant.safetensors     fixed float32 matrices and vectors (seeded numpy generator),
                                       the int8 codes, float32 and float16 scales and clip values
                                       the reference quantizer gives them, and their dequantized values

The functions marked "verbatim" are those of the parameter-golf reference trainer
(train_gpt_mlx.py: build_sentencepiece_luts, eval_val's byte count, quantize_float_array), with
MLX arrays replaced by numpy float32 arrays (the trainer converts to numpy float32 before it
quantizes). The safetensors file is written by hand (no safetensors package). int8 codes are stored
with dtype "U8" (the same bytes, read as two's complement); scalars have shape [].
"""

import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = os.path.join(ROOT, "src", "test", "resources", "sp", "shakespeare_1024_bpe.model")
VOCAB_SIZE = 1024

# ---------------------------------------------------------------------------
# val_bpb byte counts (verbatim from the reference trainer)
# ---------------------------------------------------------------------------


def build_sentencepiece_luts(sp, vocab_size):
    sp_vocab_size = int(sp.vocab_size())
    table_size = max(sp_vocab_size, vocab_size)
    base_bytes_lut = np.zeros((table_size,), dtype=np.int16)
    has_leading_space_lut = np.zeros((table_size,), dtype=np.bool_)
    is_boundary_token_lut = np.ones((table_size,), dtype=np.bool_)
    for token_id in range(sp_vocab_size):
        if sp.is_control(token_id) or sp.is_unknown(token_id) or sp.is_unused(token_id):
            continue
        is_boundary_token_lut[token_id] = False
        if sp.is_byte(token_id):
            base_bytes_lut[token_id] = 1
            continue
        piece = sp.id_to_piece(token_id)
        if piece.startswith("\u2581"):
            has_leading_space_lut[token_id] = True
            piece = piece[1:]
        base_bytes_lut[token_id] = len(piece.encode("utf-8"))
    return base_bytes_lut, has_leading_space_lut, is_boundary_token_lut


def target_bytes(tokens, base_bytes_lut, has_leading_space_lut, is_boundary_token_lut):
    # eval_val: prev_ids = x, tgt_ids = y
    prev_ids = tokens[:-1]
    tgt_ids = tokens[1:]
    bytes_np = base_bytes_lut[tgt_ids].astype(np.int16, copy=True)
    bytes_np += (has_leading_space_lut[tgt_ids] & ~is_boundary_token_lut[prev_ids]).astype(np.int16, copy=False)
    return bytes_np


def token_sequence(sp):
    """A fixed sequence: encoded text after BOS (1), control ids, then every id twice in two orders."""
    texts = [
        "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.",
        "  two  spaces, digits 12345, and bytes: h\u00e9llo w\u00f6rld \u2603 \u00bf?\n",
    ]
    ids = [1]
    for t in texts:
        ids += list(sp.encode(t))
        ids += [1]
    ids += [2, 0, 3]
    ids += list(range(VOCAB_SIZE))
    ids += list(range(VOCAB_SIZE - 1, -1, -7))
    return np.array(ids, dtype=np.int64)


# ---------------------------------------------------------------------------
# int8 quantizer (verbatim from the reference trainer, numpy float32 in place of MLX)
# ---------------------------------------------------------------------------

INT8_CLIP_PERCENTILE = 99.99984
INT8_CLIP_Q = INT8_CLIP_PERCENTILE / 100.0
INT8_PER_ROW_SCALE_DTYPE = np.float16


def quantize_float_array(f32):
    """Returns (codes, stored scale, clip_abs as numpy computed it, float32 scale)."""
    if f32.ndim == 2:
        clip_abs = np.quantile(np.abs(f32), INT8_CLIP_Q, axis=1) if f32.size else np.empty((f32.shape[0],), dtype=np.float32)
        clipped = np.clip(f32, -clip_abs[:, None], clip_abs[:, None])
        scale = np.maximum(clip_abs / 127.0, 1.0 / 127.0).astype(np.float32, copy=False)
        q = np.clip(np.round(clipped / scale[:, None]), -127, 127).astype(np.int8, copy=False)
        return np.ascontiguousarray(q), np.ascontiguousarray(scale.astype(INT8_PER_ROW_SCALE_DTYPE, copy=False)), clip_abs, scale
    clip_np = np.quantile(np.abs(f32).reshape(-1), INT8_CLIP_Q) if f32.size else np.float64(0.0)
    clip_abs = float(clip_np)
    scale = np.array(clip_abs / 127.0 if clip_abs > 0.0 else 1.0, dtype=np.float32)
    q = np.clip(np.round(np.clip(f32, -clip_abs, clip_abs) / scale), -127, 127).astype(np.int8, copy=False)
    return np.ascontiguousarray(q), scale, clip_np, scale


def dequantize(q, scale):
    # dequantize_state_dict_int8
    q_np = np.asarray(q, dtype=np.int8)
    scale = np.asarray(scale, dtype=np.float32)
    if scale.ndim > 0:
        return q_np.astype(np.float32) * scale.reshape((q_np.shape[0],) + (1,) * (q_np.ndim - 1))
    return q_np.astype(np.float32) * float(scale)


def cases():
    rng = np.random.default_rng(1234)
    out = {}
    out["normal"] = rng.normal(0.0, 0.02, size=(8, 512)).astype(np.float32)
    out["heavy"] = (rng.standard_t(2.0, size=(16, 300)) * 0.05).astype(np.float32)
    mixed = rng.normal(size=(6, 1000)) * rng.uniform(0.001, 3.0, size=(6, 1))
    mixed[0, :] = 0.0  # all zero: clip 0, scale floor 1/127
    mixed[1, :] *= 1e-6  # tiny: scale floor
    mixed[2, 17] = 100.0  # one outlier
    mixed[3, :] = np.abs(mixed[3, :])  # one sign only
    out["mixed"] = mixed.astype(np.float32)
    # values k/128 with the two largest |x| equal to 254/128: clip = 1.984375, scale = 1/64 exactly,
    # so x/scale = k/2 and odd k land exactly on halves (round half to even)
    k = rng.integers(-254, 255, size=(5, 200))
    k[:, 0] = 254
    k[:, 1] = -254
    out["grid"] = (k / 128.0).astype(np.float32)
    out["vector"] = rng.normal(0.0, 1.0, size=(2000,)).astype(np.float32)
    out["vector_zero"] = np.zeros((100,), dtype=np.float32)
    return out


# ---------------------------------------------------------------------------
# safetensors, by hand
# ---------------------------------------------------------------------------

_ST = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.float16): "F16",
       np.dtype(np.int32): "I32", np.dtype(np.int64): "I64", np.dtype(np.uint8): "U8"}


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        if arr.dtype == np.int8:
            arr = arr.view(np.uint8)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        data = arr.tobytes()
        header[name] = {"dtype": _ST[arr.dtype.newbyteorder("=")], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = {a for a in sys.argv[1:] if a.startswith("--")}
    out_dir = args[0] if args else os.path.join(ROOT, "src", "test", "resources", "golden")
    os.makedirs(out_dir, exist_ok=True)
    if "--int8-only" not in flags:
        write_bpb(out_dir)
    if "--bpb-only" not in flags:
        write_int8(out_dir)
    print("wrote", out_dir)


def write_bpb(out_dir):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=MODEL)
    base, lead, boundary = build_sentencepiece_luts(sp, VOCAB_SIZE)
    tokens = token_sequence(sp)
    tb = target_bytes(tokens, base, lead, boundary)
    total_bytes = float(tb.astype(np.float64).sum())
    total_tokens = float(tokens.size - 1)
    example_loss = 2.3456789
    example_bpb = (example_loss / math.log(2.0)) * (total_tokens / total_bytes)
    with open(MODEL, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    bpb = {
        "model": "sp/shakespeare_1024_bpe.model",
        "model_sha256": sha,
        "sentencepiece_version": spm.__version__,
        "numpy_version": np.__version__,
        "vocab_size": VOCAB_SIZE,
        "sp_vocab_size": int(sp.vocab_size()),
        "pieces": [sp.id_to_piece(i) for i in range(sp.vocab_size())],
        "base_bytes": [int(v) for v in base],
        "has_leading_space": [int(v) for v in lead],
        "is_boundary": [int(v) for v in boundary],
        "tokens": [int(v) for v in tokens],
        "target_bytes": [int(v) for v in tb],
        "total_tokens": int(total_tokens),
        "total_bytes": int(total_bytes),
        "decoded_utf8_bytes": len(sp.decode([int(t) for t in tokens[1:]]).encode("utf-8")),
        "example_loss": example_loss,
        "example_bpb": example_bpb,
    }
    with open(os.path.join(out_dir, "sp_bpb.json"), "w", encoding="utf-8") as f:
        json.dump(bpb, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"sp_bpb.json: {bpb['sp_vocab_size']} pieces, {len(tokens)} tokens, {int(total_bytes)} target bytes,"
          f" example bpb {example_bpb:.10f}")


def write_int8(out_dir):
    tensors = {}
    meta = {"numpy_version": np.__version__, "clip_q": repr(INT8_CLIP_Q),
            "description": "reference int8 quantizer on fixed inputs; codes stored as U8 (int8 bytes)"}
    for name, w in cases().items():
        q, stored, clip, s32 = quantize_float_array(w)
        tensors[name + ".w"] = w
        tensors[name + ".codes"] = q
        tensors[name + ".scale32"] = np.asarray(s32, dtype=np.float32)
        tensors[name + ".clip"] = np.asarray(clip, dtype=np.float64)
        if w.ndim == 2:
            tensors[name + ".scale16"] = stored
            tensors[name + ".dq"] = dequantize(q, stored)
        else:
            tensors[name + ".dq"] = dequantize(q, stored)
        meta[name + ".clip_dtype"] = str(np.asarray(clip).dtype)
        print(f"{name}: shape {w.shape} clip dtype {np.asarray(clip).dtype} codes {np.unique(q).size} distinct")
    write_safetensors(os.path.join(out_dir, "int8_quant.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
