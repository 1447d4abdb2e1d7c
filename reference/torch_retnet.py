#!/usr/bin/env python3
"""Golden for RetNet's multi-scale retention layer (Sun et al. 2023), float64 on the CPU.

Written from the paper (eqs. 1-8) and torchscale's MultiScaleRetention, as the naive recurrence:

    q = x W_Q^T, k = x W_K^T / sqrt(dk), v = x W_V^T      (per head: dk, dv = 2 dk)
    S_t = gamma_h S_{t-1} + k_t^T v_t,  o_t = q_t S_t,   gamma_h = 1 - 2^(-5-h)
    Y = GroupNorm_h(o)  (one group per head, no affine)
    MSR(x) = (swish(x W_G^T) * Y) W_O^T

No rotation (mixlab applies its RoPE only with positional_embedding rope). torchscale's row
normalisations of the parallel form are positive per-(position, head) scales that the group norm
removes, so the recurrence is the definition. T = 70 crosses mixlab's 64-step chunk.

Writes src/test/resources/golden/retnet.json: the layer's inputs, parameters (mixlab names),
output y, and the gradients of sum(y * ct) w.r.t. x and every parameter. The Java test
(dev.mixlab.arch.RecurrentGoldenTest) skips while the file is absent. Run from the repository root:

    python3 reference/torch_retnet.py
"""
import json
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(0)

B, T, D, H = 2, 70, 16, 2
DK = D // H
DV = 2 * DK
EPS = 1e-5  # mixlab's norm_eps


def msr(x, w):
    q = (x @ w["retention.q.weight"].T).view(B, T, H, DK)
    k = (x @ w["retention.k.weight"].T).view(B, T, H, DK) * DK ** -0.5
    v = (x @ w["retention.v.weight"].T).view(B, T, H, DV)
    gamma = 1 - 2.0 ** (-5 - torch.arange(H, dtype=torch.float64))
    s = torch.zeros(B, H, DK, DV)
    outs = []
    for t in range(T):
        kv = k[:, t].unsqueeze(-1) * v[:, t].unsqueeze(-2)  # (B, H, DK, DV)
        s = gamma.view(1, H, 1, 1) * s + kv
        outs.append(torch.einsum("bhk,bhkv->bhv", q[:, t], s))
    o = torch.stack(outs, dim=1)  # (B, T, H, DV)
    y = torch.nn.functional.group_norm(o.reshape(B * T, H * DV), H, eps=EPS).view(B, T, H * DV)
    g = torch.nn.functional.silu(x @ w["retention.gate.weight"].T)
    return (g * y) @ w["retention.proj.weight"].T


def main():
    shapes = {
        "retention.q.weight": (H * DK, D),
        "retention.k.weight": (H * DK, D),
        "retention.v.weight": (H * DV, D),
        "retention.gate.weight": (H * DV, D),
        "retention.proj.weight": (D, H * DV),
    }
    w = {n: (torch.randn(*s) * 0.3).requires_grad_() for n, s in shapes.items()}
    x = torch.randn(B, T, D).requires_grad_()
    ct = torch.randn(B, T, D)
    y = msr(x, w)
    (y * ct).sum().backward()
    out = {
        "config": {"batch": B, "seq_len": T, "model_dim": D, "heads": H, "head_dim": DK, "value_dim": DV, "norm_eps": EPS},
        "x": x.detach().flatten().tolist(),
        "ct": ct.flatten().tolist(),
        "params": {n: {"shape": list(s), "data": w[n].detach().flatten().tolist()} for n, s in shapes.items()},
        "y": y.detach().flatten().tolist(),
        "grads": {"x": x.grad.flatten().tolist(), **{n: w[n].grad.flatten().tolist() for n in shapes}},
    }
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("src/test/resources/golden/retnet.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    print("wrote", path, "|y| =", float(y.norm()), "|dx| =", float(x.grad.norm()))


if __name__ == "__main__":
    main()
