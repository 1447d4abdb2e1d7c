"""Mamba (Mamba-1) mixer golden, float64, written from the paper (Gu & Dao, "Mamba: Linear-Time Sequence Modeling
with Selective State Spaces") and the semantics of the official selective_scan_ref and HF's Jamba mixer
(JambaMambaMixer.slow_forward, with its dt/B/C RMSNorms), independently of mixlab's Java.

  x, z  = x W_x, x W_z                       (in_proj, no bias)
  x     = SiLU(causal depthwise conv(x) + bias), kernel conv_size
  dt, B, C = x W_dt, x W_B, x W_C            (x_proj, no bias), each RMSNorm'd with a weight (Jamba)
  delta = softplus(dt W_dtp^T + b_dtp);  A = -exp(A_log) [inner, N]
  h_t   = exp(delta_t A) * h_{t-1} + (delta_t x_t) B_t     per inner channel (token by token)
  y_t   = h_t C_t + D x_t;  y = (y * SiLU(z)) W_out

Writes src/test/resources/golden/mamba.json (weights under mixlab's names, input x, output y); GoldenBlocksTest
compares mixlab's reference backend to it. Run: python3 reference/torch_mamba1.py
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(11)
dt = torch.float64
B, T, D, EXPAND, N, K, DR, EPS = 2, 9, 8, 2, 4, 4, 3, 1e-5
INNER = EXPAND * D


def rnd(*shape, s=0.3):
    return torch.randn(*shape, dtype=dt) * s


W = {
    "in_proj_x.weight": rnd(INNER, D), "in_proj_z.weight": rnd(INNER, D),
    "conv1d.weight": rnd(INNER, K, s=0.5), "conv1d.bias": rnd(INNER, s=0.1),
    "x_proj_dt.weight": rnd(DR, INNER), "x_proj_B.weight": rnd(N, INNER), "x_proj_C.weight": rnd(N, INNER),
    "dt_norm.weight": 1 + rnd(DR, s=0.1), "B_norm.weight": 1 + rnd(N, s=0.1), "C_norm.weight": 1 + rnd(N, s=0.1),
    "dt_proj.weight": rnd(INNER, DR), "dt_proj.bias": rnd(INNER, s=0.5),
    "A_log": torch.log(torch.arange(1, N + 1, dtype=dt)).repeat(INNER, 1) + rnd(INNER, N, s=0.1),
    "D": 1 + rnd(INNER, s=0.1), "out_proj.weight": rnd(D, INNER),
}
x = torch.randn(B, T, D, dtype=dt)


def rms(u, w):
    return u * torch.rsqrt((u * u).mean(-1, keepdim=True) + EPS) * w


xs = x @ W["in_proj_x.weight"].T
z = x @ W["in_proj_z.weight"].T
xs = F.conv1d(xs.transpose(1, 2), W["conv1d.weight"].view(INNER, 1, K), W["conv1d.bias"], padding=K - 1, groups=INNER)[..., :T]
xs = F.silu(xs.transpose(1, 2))
dtr = rms(xs @ W["x_proj_dt.weight"].T, W["dt_norm.weight"])
Bm = rms(xs @ W["x_proj_B.weight"].T, W["B_norm.weight"])
Cm = rms(xs @ W["x_proj_C.weight"].T, W["C_norm.weight"])
delta = F.softplus(dtr @ W["dt_proj.weight"].T + W["dt_proj.bias"])
A = -torch.exp(W["A_log"])

h = torch.zeros(B, INNER, N, dtype=dt)
ys = []
for t in range(T):
    h = torch.exp(delta[:, t, :, None] * A) * h + (delta[:, t] * xs[:, t])[:, :, None] * Bm[:, t, None, :]
    ys.append((h * Cm[:, t, None, :]).sum(-1))
y = torch.stack(ys, 1) + W["D"] * xs
y = (y * F.silu(z)) @ W["out_proj.weight"].T

out = {"block": "mamba", "B": B, "T": T, "D": D, "expand": EXPAND, "d_state": N, "conv_size": K, "dt_rank": DR, "norm_eps": EPS,
       "weights": {n: w.flatten().tolist() for n, w in W.items()}, "x": x.flatten().tolist(), "y": y.flatten().tolist()}
path = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "golden", "mamba.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
json.dump(out, open(path, "w"))
print("wrote", os.path.normpath(path))
