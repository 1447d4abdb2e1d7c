#!/usr/bin/env python3
"""Golden for one RWKV-6 "Finch" layer (Peng et al. 2024), float64 on the CPU.

Written from RWKV-LM's RWKV-v5/src/model.py (RWKV_Tmix_x060, RWKV_CMix_x060, Block) with the
wkv kernel replaced by the naive recurrence of the official CPU demo:

    xx = time_shift(x) - x;  xxx = x + xx * maa_x
    xxx = tanh(xxx @ maa_w1).view(B*T, 5, -1).transpose(0, 1);  xxx = bmm(xxx, maa_w2).view(5, B, T, -1)
    mw, mk, mv, mr, mg = xxx.unbind(0);  x_c = x + xx * (maa_c + m_c)
    r, k, v = W_r x_r, W_k x_k, W_v x_v;  g = silu(W_g x_g)
    w = time_decay + tanh(x_w @ decay_w1) @ decay_w2             (decay exp(-exp(w)))
    per head: y_t = r_t (u * k_t^T v_t + S);  S = k_t^T v_t + exp(-exp(w_t)) * S
    y = GroupNorm(H, eps 64e-5)(y) with weight/bias (ln_x);  tmix = W_o (y * g)
    cmix = sigmoid(W_r x_r) * (W_v relu(W_k x_k)^2),  x_c = x + xx * maa_c
    block: x + tmix(LN1(x)), then + cmix(LN2(.))

The LayerNorms are mixlab's (`norm_type` layernorm, no bias: LN weight only, eps 1e-5). maa_w1 and
maa_w2 are assembled from mixlab's five LoRAs, time_faaaa [H, HS] is stored flat as [D], (A_c [L, D], B_c [D, L]) as RWKV-LM lays them out.
T = 70 crosses mixlab's 64-step chunk.

Writes src/test/resources/golden/rwkv.json (inputs, parameters with mixlab names, output, and the
gradients of sum(y * ct) w.r.t. x and every parameter). The Java test
(dev.mixlab.arch.RecurrentGoldenTest) skips while the file is absent. Run from the repository root:

    python3 reference/torch_rwkv.py
"""
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(0)

B, T, D, HS = 2, 70, 16, 8
H = D // HS
MIX_LORA, DECAY_LORA = 4, 6
HIDDEN = round(D * 3.5)
P = "blocks.0."
MIX = ["w", "k", "v", "r", "g"]


def time_shift(x):
    return F.pad(x, (0, 0, 1, -1))  # RWKV-LM: nn.ZeroPad2d((0, 0, 1, -1))


def wkv_naive(r, k, v, w, u):
    # r, k, v, w: (B, T, H, HS); u: (H, HS)
    y = torch.zeros(B, T, H, HS)
    s = torch.zeros(B, H, HS, HS)
    for t in range(T):
        kv = k[:, t].unsqueeze(-1) @ v[:, t].unsqueeze(-2)  # (B, H, HS, HS)
        y[:, t] = (r[:, t].unsqueeze(-2) @ (u.unsqueeze(-1) * kv + s)).squeeze(-2)
        s = kv + torch.exp(-torch.exp(w[:, t])).unsqueeze(-1) * s
    return y


def tmix(x, p):
    q = P + "tmix."
    xx = time_shift(x) - x
    xxx = x + xx * p[q + "maa_x"]
    maa_w1 = torch.cat([p[q + "maa_lora." + c + ".a.weight"].T for c in MIX], dim=1)  # (D, 5L)
    maa_w2 = torch.stack([p[q + "maa_lora." + c + ".b.weight"].T for c in MIX])  # (5, L, D)
    xxx = torch.tanh(xxx @ maa_w1).view(B * T, 5, -1).transpose(0, 1)
    xxx = torch.bmm(xxx, maa_w2).view(5, B, T, -1)
    mw, mk, mv, mr, mg = xxx.unbind(dim=0)
    xw = x + xx * (p[q + "maa_w"] + mw)
    xk = x + xx * (p[q + "maa_k"] + mk)
    xv = x + xx * (p[q + "maa_v"] + mv)
    xr = x + xx * (p[q + "maa_r"] + mr)
    xg = x + xx * (p[q + "maa_g"] + mg)
    r = xr @ p[q + "receptance.weight"].T
    k = xk @ p[q + "key.weight"].T
    v = xv @ p[q + "value.weight"].T
    g = F.silu(xg @ p[q + "gate.weight"].T)
    ww = torch.tanh(xw @ p[q + "decay_lora.a.weight"].T) @ p[q + "decay_lora.b.weight"].T
    w = p[q + "time_decay"] + ww
    y = wkv_naive(*(z.view(B, T, H, HS) for z in (r, k, v, w)), p[q + "time_faaaa"].view(H, HS))
    y = F.group_norm(y.reshape(B * T, D), H, weight=p[q + "ln_x.weight"], bias=p[q + "ln_x.bias"], eps=64e-5).view(B, T, D)
    return (y * g) @ p[q + "output.weight"].T


def cmix(x, p):
    q = P + "cmix."
    xx = time_shift(x) - x
    xk = x + xx * p[q + "maa_k"]
    xr = x + xx * p[q + "maa_r"]
    k = torch.relu(xk @ p[q + "key.weight"].T) ** 2
    return torch.sigmoid(xr @ p[q + "receptance.weight"].T) * (k @ p[q + "value.weight"].T)


def block(x, p):
    x = x + tmix(F.layer_norm(x, (D,), weight=p[P + "attn_norm.weight"], eps=1e-5), p)
    return x + cmix(F.layer_norm(x, (D,), weight=p[P + "mlp_norm.weight"], eps=1e-5), p)


def main():
    t, c = P + "tmix.", P + "cmix."
    shapes = {P + "attn_norm.weight": (D,), P + "mlp_norm.weight": (D,), t + "maa_x": (D,)}
    for m in MIX:
        shapes[t + "maa_" + m] = (D,)
        shapes[t + "maa_lora." + m + ".a.weight"] = (MIX_LORA, D)
        shapes[t + "maa_lora." + m + ".b.weight"] = (D, MIX_LORA)
    for n in ("receptance", "key", "value", "gate", "output"):
        shapes[t + n + ".weight"] = (D, D)
    shapes.update({t + "time_decay": (D,), t + "decay_lora.a.weight": (DECAY_LORA, D), t + "decay_lora.b.weight": (D, DECAY_LORA),
                   t + "time_faaaa": (D,), t + "ln_x.weight": (D,), t + "ln_x.bias": (D,),
                   c + "maa_k": (D,), c + "maa_r": (D,), c + "key.weight": (HIDDEN, D), c + "value.weight": (D, HIDDEN),
                   c + "receptance.weight": (D, D)})
    p = {n: torch.randn(*s) * 0.4 for n, s in shapes.items()}
    for n in shapes:
        if n.endswith("norm.weight") or n.endswith("ln_x.weight"):
            p[n] = 1 + 0.2 * torch.randn(*shapes[n])
        elif "maa_" in n and "lora" not in n:
            p[n] = torch.rand(*shapes[n])
    p[t + "time_decay"] = torch.linspace(-3.0, 1.0, D)  # decays from ~0.95 to ~0.07 per step
    p = {n: z.requires_grad_() for n, z in p.items()}
    x = torch.randn(B, T, D).requires_grad_()
    ct = torch.randn(B, T, D)
    y = block(x, p)
    (y * ct).sum().backward()
    out = {
        "config": {"batch": B, "seq_len": T, "model_dim": D, "head_size": HS, "mix_lora_dim": MIX_LORA,
                   "decay_lora_dim": DECAY_LORA, "mlp_mult": 3.5, "norm_eps": 1e-5},
        "x": x.detach().flatten().tolist(),
        "ct": ct.flatten().tolist(),
        "params": {n: {"shape": list(s), "data": p[n].detach().flatten().tolist()} for n, s in shapes.items()},
        "y": y.detach().flatten().tolist(),
        "grads": {"x": x.grad.flatten().tolist(), **{n: p[n].grad.flatten().tolist() for n in shapes}},
    }
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("src/test/resources/golden/rwkv.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    print("wrote", path, "|y| =", float(y.norm()), "|dx| =", float(x.grad.norm()))


if __name__ == "__main__":
    main()
