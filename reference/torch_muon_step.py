#!/usr/bin/env python3
"""Golden for ONE Muon + Adam step of the parameter-golf optimizer split, in float64 on the CPU.

Self-contained: random parameters and gradients for a small model's tensor names, the seed's
split (train_gpt_mlx.py SplitOptimizers) and learning rates, written from the seed's formulas:

  * Muon (block matrices, rank 2, not control tensors): buf = mu*buf + g; g_eff = g + mu*buf;
    zeropower_newtonschulz5 (a, b, c = 3.4445, -4.7750, 2.0315; x / (||x||_F + 1e-7); transpose
    when rows > cols; 5 steps); p -= matrix_lr * lr_mul * g_ortho * sqrt(max(1, rows/cols)).
    The momentum is the warmup value at step 0: muon_momentum_warmup_start = 0.85.
  * Adam (torch.optim.Adam, no weight decay, bias correction) for tok_emb.weight at
    tied_embed_lr = 0.05 and for scalar/control tensors at scalar_lr = 0.04, both times lr_mul.

Writes src/test/resources/golden/golden_muon.safetensors (dtype F64): param.<name>, grad.<name>,
out.<name>, and metadata lr_mul and momentum. The Java test (dev.mixlab.optim.GoldenMuonTest)
skips while the file is absent. Run from the repository root:

    python3 reference/torch_muon_step.py
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)

BETA1, BETA2, ADAM_EPS = 0.9, 0.95, 1e-8
TIED_EMBED_LR, MATRIX_LR, SCALAR_LR = 0.05, 0.04, 0.04
MUON_MOMENTUM_WARMUP_START = 0.85
NS_STEPS = 5
LR_MUL = 0.75  # a warmdown multiplier, to check that it scales every group
CONTROL = ("attn_scale", "attn_scales", "mlp_scale", "mlp_scales", "resid_mix", "resid_mixes", "q_gain",
           "skip_weight", "skip_weights")

SHAPES = {
    "tok_emb.weight": (32, 16),
    "blocks.0.attn.q.weight": (16, 16),
    "blocks.0.attn.k.weight": (8, 16),
    "blocks.0.mlp.fc.weight": (48, 16),
    "blocks.0.mlp.proj.weight": (16, 48),
    "blocks.0.attn_norm.weight": (16,),
    "blocks.0.attn_scale": (16,),
    "blocks.0.resid_mix": (2, 16),
    "blocks.0.q_gain": (2,),
    "skip_weights": (1, 16),
}


def zeropower_newtonschulz5(g, steps, eps=1e-7):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g / (torch.sqrt(torch.sum(g * g)) + eps)
    transposed = x.shape[0] > x.shape[1]
    if transposed:
        x = x.T
    for _ in range(steps):
        a_mat = x @ x.T
        b_mat = b * a_mat + c * (a_mat @ a_mat)
        x = a * x + b_mat @ x
    if transposed:
        x = x.T
    return x


def split(params):
    matrix = [k for k, p in params.items()
              if k.startswith("blocks.") and p.ndim == 2 and not any(c in k for c in CONTROL)]
    scalar = [k for k, p in params.items()
              if k == "skip_weights" or (k.startswith("blocks.") and (p.ndim < 2 or any(c in k for c in CONTROL)))]
    return ["tok_emb.weight"], matrix, scalar


def main():
    gen = torch.Generator().manual_seed(1234)
    params = {k: torch.randn(s, generator=gen) * 0.1 for k, s in SHAPES.items()}
    grads = {k: torch.randn(s, generator=gen) * 0.5 for k, s in SHAPES.items()}
    embed, matrix, scalar = split(params)
    assert sorted(embed + matrix + scalar) == sorted(SHAPES), "every tensor in exactly one group"
    out = {}
    # Muon, step 0 of the momentum warmup; the buffer starts at zero
    mu = MUON_MOMENTUM_WARMUP_START
    for k in matrix:
        p, g = params[k], grads[k]
        buf = torch.zeros_like(p)
        buf = mu * buf + g
        g_eff = g + mu * buf
        g_ortho = zeropower_newtonschulz5(g_eff, NS_STEPS)
        scale = math.sqrt(max(1.0, p.shape[0] / p.shape[1]))
        out[k] = p - MATRIX_LR * LR_MUL * g_ortho * scale
    # Adam groups: torch.optim.Adam as the independent oracle
    for keys, lr in ((embed, TIED_EMBED_LR), (scalar, SCALAR_LR)):
        ps = [params[k].clone().requires_grad_(True) for k in keys]
        for p, k in zip(ps, keys):
            p.grad = grads[k].clone()
        opt = torch.optim.Adam(ps, lr=lr * LR_MUL, betas=(BETA1, BETA2), eps=ADAM_EPS, weight_decay=0.0)
        opt.step()
        for p, k in zip(ps, keys):
            out[k] = p.detach()
    tensors = {}
    for k in SHAPES:
        tensors["param." + k] = params[k]
        tensors["grad." + k] = grads[k]
        tensors["out." + k] = out[k]
    meta = {"lr_mul": repr(LR_MUL), "momentum": repr(mu), "matrix_lr": repr(MATRIX_LR),
            "tied_embed_lr": repr(TIED_EMBED_LR), "scalar_lr": repr(SCALAR_LR), "torch": torch.__version__}
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/golden/golden_muon.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"wrote {path} ({len(tensors)} tensors)")


def write_safetensors(path, tensors, meta):
    """Minimal safetensors writer (F64, little-endian), so the script needs only torch."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float64).numpy().astype("<f8").tobytes() if _has_numpy() \
            else struct.pack("<%dd" % t.numel(), *t.detach().flatten().tolist())
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def _has_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
