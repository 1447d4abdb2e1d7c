#!/usr/bin/env python3
"""Golden for mixlab's differential attention (DiffAttnTest): float64 MultiheadDiffAttn.

Re-implements the forward pass of the official Differential Transformer attention
(microsoft/unilm, Diff-Transformer/multihead_diffattn.py; Ye et al. 2024) without RoPE and without
grouped kv heads: num_heads H differential heads, head_dim d = embed_dim / H / 2,

    q = x q_projᵀ viewed [B, T, 2H, d]; k likewise; v = x v_projᵀ viewed [B, T, H, 2d]
    A = softmax(q kᵀ · d^-0.5 + causal mask)              [B, 2H, T, T], viewed [B, H, 2, T, T]
    λ = exp(Σ λ_q1·λ_k1) − exp(Σ λ_q2·λ_k2) + λ_init,     λ_init = 0.8 − 0.6·exp(−0.3·depth)
    o = (A[:, :, 0] − λ·A[:, :, 1]) v                      [B, H, T, 2d]
    o = RMSNorm_2d(o) · subln_weight · (1 − λ_init), heads concatenated, then out_proj

Fixed small inputs and weights from a seed, float64. Writes src/test/resources/golden/diff_attn.json
(or the path given). Needs torch. Run from the repository root:

    python3 reference/torch_diff_attn.py [OUT]
"""

import json
import math
import sys

import torch

B, T, D, H = 2, 6, 16, 2
D_HEAD = D // H // 2
DEPTH = 2          # 0-based layer index, as lambda_init_fn(depth) in the official code
EPS = 1e-5


def lambda_init_fn(depth):
    return 0.8 - 0.6 * math.exp(-0.3 * depth)


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def diff_attn(x, p, depth):
    bsz, tgt_len, embed_dim = x.shape
    q = x @ p["q_proj"].T
    k = x @ p["k_proj"].T
    v = x @ p["v_proj"].T
    q = q.view(bsz, tgt_len, 2 * H, D_HEAD).transpose(1, 2)
    k = k.view(bsz, tgt_len, 2 * H, D_HEAD).transpose(1, 2)
    v = v.view(bsz, tgt_len, H, 2 * D_HEAD).transpose(1, 2)
    scaling = D_HEAD ** -0.5
    attn_weights = torch.matmul(q * scaling, k.transpose(-1, -2))
    mask = torch.triu(torch.full((tgt_len, tgt_len), float("-inf"), dtype=torch.float64), 1)
    attn_weights = torch.softmax(attn_weights + mask, dim=-1)
    lambda_init = lambda_init_fn(depth)
    lambda_1 = torch.exp(torch.sum(p["lambda_q1"] * p["lambda_k1"], dim=-1))
    lambda_2 = torch.exp(torch.sum(p["lambda_q2"] * p["lambda_k2"], dim=-1))
    lambda_full = lambda_1 - lambda_2 + lambda_init
    attn_weights = attn_weights.view(bsz, H, 2, tgt_len, tgt_len)
    attn_weights = attn_weights[:, :, 0] - lambda_full * attn_weights[:, :, 1]
    attn = torch.matmul(attn_weights, v)
    attn = rms_norm(attn, p["subln_weight"], EPS)
    attn = attn * (1 - lambda_init)
    attn = attn.transpose(1, 2).reshape(bsz, tgt_len, H * 2 * D_HEAD)
    return attn @ p["out_proj"].T


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/golden/diff_attn.json"
    g = torch.Generator().manual_seed(20241007)

    def rnd(*shape, std=1.0):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * std

    p = {
        "q_proj": rnd(D, D, std=0.3), "k_proj": rnd(D, D, std=0.3), "v_proj": rnd(D, D, std=0.3),
        "out_proj": rnd(D, D, std=0.3),
        "lambda_q1": rnd(D_HEAD, std=0.5), "lambda_k1": rnd(D_HEAD, std=0.5),
        "lambda_q2": rnd(D_HEAD, std=0.5), "lambda_k2": rnd(D_HEAD, std=0.5),
        "subln_weight": 1 + rnd(2 * D_HEAD, std=0.2),
    }
    x = rnd(B, T, D)
    y = diff_attn(x, p, DEPTH)
    doc = {
        "source": "reference/torch_diff_attn.py (official multihead_diffattn semantics, float64)",
        "batch": B, "seq_len": T, "model_dim": D, "heads": H, "head_dim": D_HEAD, "depth": DEPTH, "eps": EPS,
        "lambda_init": lambda_init_fn(DEPTH),
        "x": x.flatten().tolist(),
        "weights": {k: v.flatten().tolist() for k, v in p.items()},
        "y": y.flatten().tolist(),
    }
    with open(out, "w") as f:
        json.dump(doc, f)
    print("wrote", out)


if __name__ == "__main__":
    main()
