#!/usr/bin/env python3
"""Independent PyTorch reference for mixlab: writes float64 golden files.

Usage:
    python3 reference/torch_gpt.py OUT_DIR     # needs torch; writes the two goldens
    python3 reference/torch_gpt.py --selftest  # no torch needed; checks the safetensors writer

Everything is computed on the CPU in float64, single-threaded, from fixed seeds.
The only dependencies are torch and the Python standard library; safetensors
files are written by hand (see write_safetensors).

The model is written out op by op (no nn.TransformerEncoder, no fused attention):
see forward() for the exact definition, and reference/README.md for a summary.
"""

import json
import math
import os
import struct
import sys
import tempfile

# ---------------------------------------------------------------------------
# safetensors, by hand (no numpy, no torch)
# ---------------------------------------------------------------------------

_DTYPES = {
    # dtype name -> (struct code, byte size)
    "F64": ("d", 8),
    "I32": ("i", 4),
}


def _numel(shape):
    n = 1
    for s in shape:
        n *= int(s)
    return n


def pack_values(dtype, values):
    """Little-endian raw bytes for a flat list of Python numbers."""
    code, _ = _DTYPES[dtype]
    if dtype == "I32":
        values = [int(v) for v in values]
    else:
        values = [float(v) for v in values]
    return struct.pack("<%d%s" % (len(values), code), *values)


def write_safetensors(path, tensors, metadata):
    """Write a safetensors file.

    tensors:  dict name -> (dtype, shape, flat list of values in row-major order)
    metadata: dict str -> str (stored under "__metadata__")

    Layout: u64 little-endian header length N, then N bytes of JSON header
    (padded with spaces to a multiple of 8), then the raw data of each tensor,
    in the order of their data_offsets (tensors are laid out sorted by name).
    """
    for k, v in metadata.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError("metadata must map str -> str, got %r -> %r" % (k, v))
    header = {"__metadata__": dict(metadata)}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        dtype, shape, values = tensors[name]
        shape = [int(s) for s in shape]
        if dtype not in _DTYPES:
            raise ValueError("unsupported dtype %r" % dtype)
        if len(values) != _numel(shape):
            raise ValueError("%s: %d values for shape %r" % (name, len(values), shape))
        blob = pack_values(dtype, values)
        assert len(blob) == _numel(shape) * _DTYPES[dtype][1]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    hbytes = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def read_safetensors(path):
    """Parse a safetensors file written by write_safetensors (F64/I32 only).

    Returns (metadata dict, dict name -> (dtype, shape, flat list of values)).
    Validates the layout strictly: header padding, contiguous offsets, file size.
    """
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8 != 0:
        raise ValueError("header length %d is not a multiple of 8" % n)
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    out = {}
    spans = []
    for name, info in header.items():
        dtype = info["dtype"]
        shape = info["shape"]
        begin, end = info["data_offsets"]
        code, size = _DTYPES[dtype]
        count = _numel(shape)
        if end - begin != count * size:
            raise ValueError("%s: byte span %d != %d" % (name, end - begin, count * size))
        vals = list(struct.unpack("<%d%s" % (count, code), data[begin:end]))
        out[name] = (dtype, shape, vals)
        spans.append((begin, end))
    spans.sort()
    pos = 0
    for begin, end in spans:
        if begin != pos:
            raise ValueError("data not contiguous at byte %d" % begin)
        pos = end
    if pos != len(data):
        raise ValueError("data section is %d bytes, offsets cover %d" % (len(data), pos))
    return metadata, out


def selftest():
    """Round-trip the writer through the independent parser; no torch, no numpy."""
    meta = {"config": json.dumps({"a": 1, "b": [1.5, "x"]}), "description": "selftest \u00e9"}
    tensors = {
        # odd sizes so the header/padding and offsets get exercised
        "b.f64": ("F64", [2, 3], [0.0, -0.0, 1.0, -2.5, 1e-310, float("inf")]),
        "a.i32": ("I32", [3], [0, -1, 2147483647]),
        "c.scalarlike": ("F64", [1], [math.pi]),
        "d.empty": ("F64", [0, 4], []),
        "e.i32": ("I32", [1, 1, 5], [-2147483648, 255, 7, 0, 1]),
    }
    fd, path = tempfile.mkstemp(suffix=".safetensors")
    os.close(fd)
    try:
        write_safetensors(path, tensors, meta)
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        assert n % 8 == 0, n
        htext = raw[8:8 + n].decode("utf-8")
        assert htext.startswith('{"__metadata__":'), htext[:40]
        assert htext.rstrip(" ").endswith("}")
        hdr = json.loads(htext)
        # offsets follow sorted-name order and are contiguous from 0
        names = [k for k in hdr if k != "__metadata__"]
        assert names == sorted(tensors), names
        pos = 0
        for k in names:
            b, e = hdr[k]["data_offsets"]
            assert b == pos, (k, b, pos)
            pos = e
        assert 8 + n + pos == len(raw), (8 + n + pos, len(raw))
        # exact byte check of one tensor, independently of pack_values
        b, e = hdr["a.i32"]["data_offsets"]
        assert raw[8 + n + b:8 + n + e] == b"\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f"
        b, e = hdr["c.scalarlike"]["data_offsets"]
        assert raw[8 + n + b:8 + n + e] == bytes.fromhex("182d4454fb210940")  # pi, LE f64
        got_meta, got = read_safetensors(path)
        assert got_meta == meta, got_meta
        assert set(got) == set(tensors)
        for k, (dt, shape, vals) in tensors.items():
            gdt, gshape, gvals = got[k]
            assert gdt == dt and gshape == shape, (k, gdt, gshape)
            assert len(gvals) == len(vals)
            for x, y in zip(vals, gvals):
                if dt == "F64":
                    # bitwise equality (distinguishes -0.0 from 0.0)
                    assert struct.pack("<d", x) == struct.pack("<d", y), (k, x, y)
                else:
                    assert x == y, (k, x, y)
    finally:
        os.remove(path)
    print("selftest OK: safetensors writer round-trips (header length %d, %d tensors)"
          % (n, len(tensors)))


# ---------------------------------------------------------------------------
# the model (torch from here on; imported lazily so --selftest needs no torch)
# ---------------------------------------------------------------------------

CONFIGS = [
    dict(file="golden_nanogpt.safetensors", name="golden_nanogpt",
         V=256, L=2, D=64, H=4, KVH=4, T=32, B=4, mlp_mult=4,
         norm="layernorm", pos="learned_absolute", ffn="mlp", activation="gelu", tied=True),
    dict(file="golden_variant.safetensors", name="golden_variant",
         V=256, L=2, D=64, H=4, KVH=2, T=32, B=4, mlp_mult=2.5,
         norm="rmsnorm", pos="rope", ffn="swiglu", activation="silu", tied=False),
]

NORM_EPS = 1e-5
ROPE_BASE = 10000.0
INIT_STD = 0.02
LR = 3e-3
BETAS = (0.9, 0.95)
ADAM_EPS = 1e-8
WEIGHT_DECAY = 0.1
GRAD_CLIP = 1.0
STEPS = 3
SEED = 0


def mixlab_config(c):
    """The equivalent mixlab config, in mixlab's vocabulary."""
    return {
        "name": c["name"],
        "model_dim": c["D"],
        "vocab_size": c["V"],
        "seq_len": c["T"],
        "mlp_mult": c["mlp_mult"],
        "dropout": 0.0,
        "tie_embeddings": c["tied"],
        "positional_embedding": c["pos"],
        "norm_type": c["norm"],
        "norm_eps": NORM_EPS,
        "blocks": [{"type": "plain", "heads": c["H"], "kv_heads": c["KVH"],
                    "activation": c["activation"], "ffn": c["ffn"], "repeat": c["L"]}],
        "training": {"steps": STEPS, "lr": LR, "min_lr": LR, "schedule": "constant",
                     "warmup_steps": 0, "batch_tokens": c["B"] * c["T"],
                     "optimizer": "adamw", "beta1": BETAS[0], "beta2": BETAS[1],
                     "eps": ADAM_EPS, "weight_decay": WEIGHT_DECAY, "grad_clip": GRAD_CLIP},
    }


def ffn_hidden(c):
    return int(round(c["mlp_mult"] * c["D"]))


def init_params(torch, c):
    """Parameters as an ordered dict name -> leaf tensor (float64, requires_grad).

    nanoGPT init: Linear/Embedding weights ~ N(0, 0.02), except attn.proj and
    mlp.proj ~ N(0, 0.02/sqrt(2L)); norm weights = 1. Drawn in this order.
    """
    V, L, D, H, KVH, T = c["V"], c["L"], c["D"], c["H"], c["KVH"], c["T"]
    hd = D // H
    F = ffn_hidden(c)
    proj_std = INIT_STD / math.sqrt(2 * L)
    p = {}

    def normal(name, shape, std):
        p[name] = torch.empty(shape, dtype=torch.float64).normal_(0.0, std)

    def ones(name, n):
        p[name] = torch.ones(n, dtype=torch.float64)

    normal("tok_emb.weight", (V, D), INIT_STD)
    if c["pos"] == "learned_absolute":
        normal("pos_emb.weight", (T, D), INIT_STD)
    for i in range(L):
        b = "blocks.%d." % i
        ones(b + "attn_norm.weight", D)
        normal(b + "attn.q.weight", (H * hd, D), INIT_STD)
        normal(b + "attn.k.weight", (KVH * hd, D), INIT_STD)
        normal(b + "attn.v.weight", (KVH * hd, D), INIT_STD)
        normal(b + "attn.proj.weight", (D, H * hd), proj_std)
        ones(b + "mlp_norm.weight", D)
        if c["ffn"] == "mlp":
            normal(b + "mlp.fc.weight", (F, D), INIT_STD)
        else:
            normal(b + "mlp.gate.weight", (F, D), INIT_STD)
            normal(b + "mlp.up.weight", (F, D), INIT_STD)
        normal(b + "mlp.proj.weight", (D, F), proj_std)
    ones("final_norm.weight", D)
    if not c["tied"]:
        normal("lm_head.weight", (V, D), INIT_STD)
    for t in p.values():
        t.requires_grad_(True)
    return p


def norm(torch, c, x, w):
    if c["norm"] == "layernorm":
        # weight only, no bias; biased variance
        mu = x.mean(dim=-1, keepdim=True)
        xc = x - mu
        var = (xc * xc).mean(dim=-1, keepdim=True)
        return xc * torch.rsqrt(var + NORM_EPS) * w
    elif c["norm"] == "rmsnorm":
        ms = (x * x).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(ms + NORM_EPS) * w
    raise ValueError(c["norm"])


def rope(torch, x):
    """Half-rotation RoPE on [B, heads, T, hd]: pairs (j, j + hd/2), angle = pos * base^(-2j/hd)."""
    T, hd = x.shape[-2], x.shape[-1]
    half = hd // 2
    j = torch.arange(half, dtype=torch.float64)
    inv_freq = torch.pow(torch.tensor(ROPE_BASE, dtype=torch.float64), -2.0 * j / hd)  # [half]
    pos = torch.arange(T, dtype=torch.float64)
    ang = pos[:, None] * inv_freq[None, :]  # [T, half]
    cos, sin = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def forward(torch, F, c, p, ids, targets):
    """Returns (loss, logits). ids/targets: int64 [B, T]."""
    B, T = ids.shape
    D, H, KVH = c["D"], c["H"], c["KVH"]
    hd = D // H
    x = p["tok_emb.weight"][ids]  # [B, T, D]
    if c["pos"] == "learned_absolute":
        x = x + p["pos_emb.weight"][:T][None, :, :]
    causal = torch.triu(torch.ones(T, T), diagonal=1).bool()  # True = masked (j > i)
    scale = 1.0 / math.sqrt(hd)
    for i in range(c["L"]):
        b = "blocks.%d." % i
        h = norm(torch, c, x, p[b + "attn_norm.weight"])
        q = h @ p[b + "attn.q.weight"].t()  # [B, T, H*hd]
        k = h @ p[b + "attn.k.weight"].t()  # [B, T, KVH*hd]
        v = h @ p[b + "attn.v.weight"].t()
        q = q.view(B, T, H, hd).transpose(1, 2)    # [B, H, T, hd]
        k = k.view(B, T, KVH, hd).transpose(1, 2)  # [B, KVH, T, hd]
        v = v.view(B, T, KVH, hd).transpose(1, 2)
        if c["pos"] == "rope":
            q = rope(torch, q)
            k = rope(torch, k)
        group = H // KVH
        if group > 1:
            # query head h uses kv head h // group
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        att = (q @ k.transpose(-2, -1)) * scale  # [B, H, T, T]
        att = att.masked_fill(causal, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = att @ v  # [B, H, T, hd]
        y = y.transpose(1, 2).reshape(B, T, H * hd)
        x = x + y @ p[b + "attn.proj.weight"].t()

        h2 = norm(torch, c, x, p[b + "mlp_norm.weight"])
        if c["ffn"] == "mlp":
            a = F.gelu(h2 @ p[b + "mlp.fc.weight"].t())  # exact (erf) GELU
        elif c["ffn"] == "swiglu":
            a = F.silu(h2 @ p[b + "mlp.gate.weight"].t()) * (h2 @ p[b + "mlp.up.weight"].t())
        else:
            raise ValueError(c["ffn"])
        x = x + a @ p[b + "mlp.proj.weight"].t()
    h = norm(torch, c, x, p["final_norm.weight"])
    W = p["tok_emb.weight"] if c["tied"] else p["lm_head.weight"]
    logits = h @ W.t()  # [B, T, V]
    loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))
    return loss, logits


def _flat(t):
    return t.detach().to("cpu").contiguous().reshape(-1).tolist()


def run_config(torch, F, c, out_dir):
    torch.manual_seed(SEED)
    B, T, V = c["B"], c["T"], c["V"]
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    p = init_params(torch, c)
    names = list(p)
    initial = {n: t.detach().clone() for n, t in p.items()}

    decay = [p[n] for n in names if p[n].dim() >= 2]
    no_decay = [p[n] for n in names if p[n].dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=WEIGHT_DECAY, foreach=False)
    params = [p[n] for n in names]

    losses, norms = [], []
    grads0, logits0 = None, None
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss, logits = forward(torch, F, c, p, ids, targets)
        loss.backward()
        if step == 0:
            logits0 = logits.detach().clone()
            grads0 = {n: p[n].grad.detach().clone() for n in names}
        losses.append(loss.item())
        try:
            total = torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP, foreach=False)
        except TypeError:  # older torch without the foreach argument
            total = torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
        norms.append(float(total))
        opt.step()
    with torch.no_grad():
        loss, _ = forward(torch, F, c, p, ids, targets)
    losses.append(loss.item())

    tensors = {}
    for n in names:
        tensors["param." + n] = ("F64", list(initial[n].shape), _flat(initial[n]))
        tensors["grad." + n] = ("F64", list(grads0[n].shape), _flat(grads0[n]))
        tensors["final." + n] = ("F64", list(p[n].shape), _flat(p[n]))
    tensors["logits"] = ("F64", [B, T, V], _flat(logits0))
    tensors["batch.x"] = ("I32", [B, T], _flat(ids))
    tensors["batch.y"] = ("I32", [B, T], _flat(targets))
    tensors["loss"] = ("F64", [STEPS + 1], losses)
    tensors["grad_norm"] = ("F64", [STEPS], norms)

    desc = (
        "mixlab golden (%s), computed by reference/torch_gpt.py on the CPU in float64. "
        "B=%d T=%d V=%d L=%d D=%d H=%d KVH=%d ffn_hidden=%d norm=%s pos=%s ffn=%s tied=%s. "
        "param.* = initial weights; grad.* = gradients of the mean cross-entropy at the "
        "initial weights (before clipping); logits [B,T,V] at the initial weights; "
        "batch.x/batch.y = input ids/targets; loss[0] = loss at initial weights, loss[k] = "
        "loss after k AdamW steps on the same batch; grad_norm[k] = total L2 norm returned "
        "by clip_grad_norm_(max_norm=%g) at step k (clip coef = min(1, max/(norm+1e-6))); "
        "final.* = weights after %d steps. AdamW lr=%g betas=(%g,%g) eps=%g, weight decay %g "
        "on params with ndim>=2 only (decoupled, p *= 1 - lr*wd), torch seed %d."
        % (c["name"], B, T, V, c["L"], c["D"], c["H"], c["KVH"], ffn_hidden(c), c["norm"],
           c["pos"], c["ffn"], c["tied"], GRAD_CLIP, STEPS, LR, BETAS[0], BETAS[1], ADAM_EPS,
           WEIGHT_DECAY, SEED))
    metadata = {
        "config": json.dumps(mixlab_config(c)),
        "torch_version": str(torch.__version__),
        "description": desc,
    }
    path = os.path.join(out_dir, c["file"])
    write_safetensors(path, tensors, metadata)
    print("%s: loss %s grad_norm %s" % (path, ["%.10f" % l for l in losses],
                                        ["%.6f" % g for g in norms]))


def main(argv):
    if len(argv) == 2 and argv[1] == "--selftest":
        selftest()
        return 0
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: %s OUT_DIR | --selftest\n" % argv[0])
        return 2
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for c in CONFIGS:
        assert c["D"] % c["H"] == 0 and c["H"] % c["KVH"] == 0 and (c["D"] // c["H"]) % 2 == 0
        run_config(torch, F, c, out_dir)
    # re-read what was written, as a cheap sanity check of the files themselves
    for c in CONFIGS:
        meta, t = read_safetensors(os.path.join(out_dir, c["file"]))
        json.loads(meta["config"])
        assert t["logits"][1] == [c["B"], c["T"], c["V"]]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
