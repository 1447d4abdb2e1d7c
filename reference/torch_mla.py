#!/usr/bin/env python3
"""Golden for mixlab's `mla` block: DeepSeek-V2 multi-head latent attention, forward, float64.

An independent re-implementation of the attention module of Hugging Face's DeepSeek-V2 modelling
code (modeling_deepseek.py, DeepseekV2Attention.forward without rope scaling, eager attention),
which follows the DeepSeek-V2 paper section 2.1:

    c_q  = RMSNorm(q_a_proj(x))                    (q_lora_rank > 0; else q = q_proj(x))
    q    = q_b_proj(c_q)  -> per head [q_nope (dn) | q_pe (dr)]
    c_kv, k_pe = split(kv_a_proj_with_mqa(x), [r, dr])      k_pe: one per token, shared by all heads
    k_nope, v  = split(kv_b_proj(RMSNorm(c_kv)) per head, [dn, dv])
    q_pe, k_pe = RoPE(q_pe, k_pe)    DeepSeek's apply_rotary_pos_emb: de-interleave (d/2, 2) -> rotate_half
    out  = o_proj(softmax(causal(q·kᵀ / sqrt(dn + dr)))·v)

Weights use Hugging Face's names and layouts ([out, in]); the Java test maps them to mixlab's
parameters. Writes src/test/resources/golden/mla.json (or the path given as argv[1]).
Only torch and the standard library are used; everything runs on the CPU in float64.
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

CASES = [
    # name, D, heads, kv_lora_rank, q_lora_rank, qk_nope, qk_rope, v_head_dim, B, T
    dict(name="no_q_lora", hidden=16, heads=4, kv_lora_rank=12, q_lora_rank=0, qk_nope=4, qk_rope=4, v_head_dim=6, batch=2, seq=7),
    dict(name="q_lora", hidden=24, heads=3, kv_lora_rank=10, q_lora_rank=8, qk_nope=6, qk_rope=2, v_head_dim=4, batch=2, seq=6),
    dict(name="v_wider", hidden=12, heads=2, kv_lora_rank=8, q_lora_rank=6, qk_nope=2, qk_rope=4, v_head_dim=9, batch=1, seq=5),
]
ROPE_THETA = 100.0   # small so that the rotation angles vary a lot over a few positions
EPS = 1e-6


def rms_norm(x, w):
    # DeepseekV2RMSNorm: x * rsqrt(mean(x^2) + eps) * weight (computed in float32 there; float64 here)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope(x, pos):
    """DeepSeek-V2 apply_rotary_pos_emb for x [b, h, s, d] at positions pos [s]."""
    d = x.shape[-1]
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.outer(pos.to(torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    b, h, s, _ = x.shape
    x = x.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    return x * cos + rotate_half(x) * sin


def mla(c, w, x):
    bsz, q_len, _ = x.shape
    H, dn, dr, dv, r = c["heads"], c["qk_nope"], c["qk_rope"], c["v_head_dim"], c["kv_lora_rank"]
    q_head_dim = dn + dr
    if c["q_lora_rank"] == 0:
        q = x @ w["q_proj.weight"].T
    else:
        q = rms_norm(x @ w["q_a_proj.weight"].T, w["q_a_layernorm.weight"]) @ w["q_b_proj.weight"].T
    q = q.view(bsz, q_len, H, q_head_dim).transpose(1, 2)
    q_nope, q_pe = torch.split(q, [dn, dr], dim=-1)
    compressed_kv = x @ w["kv_a_proj_with_mqa.weight"].T
    compressed_kv, k_pe = torch.split(compressed_kv, [r, dr], dim=-1)
    k_pe = k_pe.view(bsz, q_len, 1, dr).transpose(1, 2)
    kv = (rms_norm(compressed_kv, w["kv_a_layernorm.weight"]) @ w["kv_b_proj.weight"].T)
    kv = kv.view(bsz, q_len, H, dn + dv).transpose(1, 2)
    k_nope, value_states = torch.split(kv, [dn, dv], dim=-1)
    pos = torch.arange(q_len)
    q_pe, k_pe = rope(q_pe, pos), rope(k_pe, pos)
    query_states = torch.cat([q_nope, q_pe], dim=-1)
    key_states = torch.cat([k_nope, k_pe.expand(bsz, H, q_len, dr)], dim=-1)
    scale = q_head_dim ** -0.5
    scores = (query_states @ key_states.transpose(2, 3)) * scale
    mask = torch.triu(torch.ones(q_len, q_len), diagonal=1).bool()
    scores = scores.masked_fill(mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = (probs @ value_states).transpose(1, 2).reshape(bsz, q_len, H * dv)
    return out @ w["o_proj.weight"].T


def weights(c, gen):
    D, H, dn, dr, dv, r, rq = c["hidden"], c["heads"], c["qk_nope"], c["qk_rope"], c["v_head_dim"], c["kv_lora_rank"], c["q_lora_rank"]
    shapes = {}
    if rq == 0:
        shapes["q_proj.weight"] = (H * (dn + dr), D)
    else:
        shapes["q_a_proj.weight"] = (rq, D)
        shapes["q_a_layernorm.weight"] = (rq,)
        shapes["q_b_proj.weight"] = (H * (dn + dr), rq)
    shapes["kv_a_proj_with_mqa.weight"] = (r + dr, D)
    shapes["kv_a_layernorm.weight"] = (r,)
    shapes["kv_b_proj.weight"] = (H * (dn + dv), r)
    shapes["o_proj.weight"] = (D, H * dv)
    w = {}
    for name, shape in shapes.items():
        if name.endswith("layernorm.weight"):
            w[name] = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        else:
            w[name] = torch.randn(shape, generator=gen) / math.sqrt(shape[1])
    return w


def flat(t):
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/golden/mla.json"
    gen = torch.Generator().manual_seed(0)
    cases = []
    for c in CASES:
        w = weights(c, gen)
        x = torch.randn((c["batch"], c["seq"], c["hidden"]), generator=gen)
        y = mla(c, w, x)
        cases.append({"config": dict(c, rope_theta=ROPE_THETA, rms_norm_eps=EPS),
                      "weights": {k: flat(v) for k, v in w.items()}, "x": flat(x), "y": flat(y)})
        print(c["name"], "y[0,0,:4] =", [round(v, 6) for v in y[0, 0, :4].tolist()], "|y| =", float(y.norm()))
    with open(out_path, "w") as f:
        json.dump({"source": "reference/torch_mla.py (DeepSeek-V2 MLA, HF modelling semantics, float64)",
                   "cases": cases}, f)
    print("wrote", out_path)


if __name__ == "__main__":
    main()
