"""Mamba-2 mixer golden, float64, written from the paper (Dao & Gu, "Transformers are SSMs", ICML 2024)
and the semantics of the official mamba_ssm Mamba2 layer (in_proj split, conv on xBC, selective state
update), token by token, independently of mixlab's Java.

  z, xBC, dt = split(x W_in)                      (W_in: [2*d_inner + 2*G*N + H, D], this order)
  xBC        = SiLU(causal depthwise conv(xBC) + bias);  x, B, C = split(xBC)
  dt         = softplus(dt + dt_bias);  A = -exp(A_log)
  h_t        = exp(dt_t A) h_{t-1} + dt_t x_t B_t^T (head h reads group h // (H/G));  y_t = h_t C_t + D x_t
  y          = RMSNormGated(y, z): RMSNorm(y * SiLU(z)) per group of d_inner/G channels, times weight
  out        = y W_out

Writes src/test/resources/golden/mamba2.json with the fused in_proj and conv split into mixlab's
parameter names (in_proj_{z,x,B,C,dt}, conv1d_{x,B,C}). Run: python3 reference/torch_mamba2.py
"""
import json, os
import torch
import torch.nn.functional as F

torch.manual_seed(11)
dt_ = torch.float64
B, T, D, EXPAND, P, N, G, K, EPS = 2, 9, 8, 2, 4, 3, 2, 4, 1e-5
DI = EXPAND * D
H = DI // P
CONV = DI + 2 * G * N


def rnd(*shape, s=0.3):
    return torch.randn(*shape, dtype=dt_) * s


w_in = rnd(2 * DI + 2 * G * N + H, D)
conv_w, conv_b = rnd(CONV, K, s=0.5), rnd(CONV, s=0.1)
dt_bias = rnd(H, s=1.0)
A_log = torch.log(torch.rand(H, dtype=dt_) * 15 + 1)
Dskip = 1 + rnd(H, s=0.2)
norm_w = 1 + rnd(DI, s=0.1)
w_out = rnd(D, DI)
x_in = torch.randn(B, T, D, dtype=dt_)

zxbcdt = x_in @ w_in.T
z, xBC, dt = torch.split(zxbcdt, [DI, CONV, H], dim=-1)
xBC = F.conv1d(xBC.transpose(1, 2), conv_w.view(CONV, 1, K), conv_b, padding=K - 1, groups=CONV)[..., :T].transpose(1, 2)
xBC = F.silu(xBC)
xs, Bm, Cm = torch.split(xBC, [DI, G * N, G * N], dim=-1)
dt = F.softplus(dt + dt_bias)
A = -torch.exp(A_log)
xs = xs.view(B, T, H, P)
Bh = Bm.view(B, T, G, N).repeat_interleave(H // G, dim=2)
Ch = Cm.view(B, T, G, N).repeat_interleave(H // G, dim=2)
h = torch.zeros(B, H, P, N, dtype=dt_)
y = torch.zeros(B, T, H, P, dtype=dt_)
for t in range(T):
    dA = torch.exp(dt[:, t] * A)
    h = h * dA[..., None, None] + (dt[:, t, :, None] * xs[:, t])[..., None] * Bh[:, t, :, None, :]
    y[:, t] = (h * Ch[:, t, :, None, :]).sum(-1) + Dskip[:, None] * xs[:, t]
y = y.reshape(B, T, DI) * F.silu(z)
yg = y.view(B, T, G, DI // G)
y = (yg * torch.rsqrt((yg * yg).mean(-1, keepdim=True) + EPS)).view(B, T, DI) * norm_w
out_y = y @ w_out.T

rows = torch.split(w_in, [DI, DI, G * N, G * N, H], dim=0)
cw = torch.split(conv_w, [DI, G * N, G * N], dim=0)
cb = torch.split(conv_b, [DI, G * N, G * N], dim=0)
W = {"in_proj_z.weight": rows[0], "in_proj_x.weight": rows[1], "in_proj_B.weight": rows[2], "in_proj_C.weight": rows[3],
     "in_proj_dt.weight": rows[4], "conv1d_x.weight": cw[0], "conv1d_B.weight": cw[1], "conv1d_C.weight": cw[2],
     "conv1d_x.bias": cb[0], "conv1d_B.bias": cb[1], "conv1d_C.bias": cb[2], "dt_bias": dt_bias, "A_log": A_log, "D": Dskip,
     "norm.weight": norm_w, "out_proj.weight": w_out}
out = {"block": "mamba2", "B": B, "T": T, "D": D, "expand": EXPAND, "head_dim": P, "d_state": N, "ngroups": G, "conv_size": K,
       "norm_eps": EPS, "weights": {n: w.flatten().tolist() for n, w in W.items()}, "x": x_in.flatten().tolist(),
       "y": out_y.flatten().tolist()}
path = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "golden", "mamba2.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
json.dump(out, open(path, "w"))
print("wrote", os.path.normpath(path))
