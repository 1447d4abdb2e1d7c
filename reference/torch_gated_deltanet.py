"""Gated DeltaNet mixer golden, float64, written from the paper (Yang, Kautz, Hatamizadeh, "Gated Delta
Networks", ICLR 2025) and the semantics of flash-linear-attention's GatedDeltaNet layer and its
naive recurrent reference (fla/ops/gated_delta_rule/naive.py), independently of mixlab's Java.

  q, k, v = SiLU(causal depthwise conv(x W_q/k/v)), kernel conv_size, no bias
  q, k    = L2-normalised per head: x / sqrt(sum x^2 + 1e-6); q scaled by head_dim^-1/2
  beta    = sigmoid(x W_b);  g = -exp(A_log) * softplus(x W_a + dt_bias)
  S_t     = S_{t-1} exp(g_t) (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,  o_t = S_t q_t   (token by token)
  o       = RMSNorm(o per head, weight, eps) * SiLU(x W_g);  y = o W_o

Writes src/test/resources/golden/gated_deltanet.json (weights under mixlab's names, input x, output y);
GoldenBlocksTest compares mixlab's reference backend to it. Run: python3 reference/torch_gated_deltanet.py
"""
import json, os
import torch
import torch.nn.functional as F

dt = torch.float64
B, T, D, H, DK, EXPAND_V, K, EPS = 2, 9, 12, 2, 4, 2, 4, 1e-5
DV = DK * EXPAND_V


def rnd(*shape, s=0.3):
    return torch.randn(*shape, dtype=dt) * s


def short_conv(u, w):
    # PyTorch Conv1d(groups=C, padding=K-1) truncated to T: causal depthwise convolution
    c = u.shape[-1]
    y = F.conv1d(u.transpose(1, 2), w.view(c, 1, K), padding=K - 1, groups=c)[..., :T]
    return F.silu(y.transpose(1, 2))


def l2norm(u):
    return u * torch.rsqrt((u * u).sum(-1, keepdim=True) + 1e-6)


def golden(name, HV, seed):
    torch.manual_seed(seed)
    W = {
        "q_proj.weight": rnd(H * DK, D), "k_proj.weight": rnd(H * DK, D), "v_proj.weight": rnd(HV * DV, D),
        "q_conv1d.weight": rnd(H * DK, K, s=0.5), "k_conv1d.weight": rnd(H * DK, K, s=0.5), "v_conv1d.weight": rnd(HV * DV, K, s=0.5),
        "b_proj.weight": rnd(HV, D), "a_proj.weight": rnd(HV, D),
        "dt_bias": rnd(HV, s=1.0), "A_log": torch.log(torch.rand(HV, dtype=dt) * 15 + 1),
        "o_norm.weight": 1 + rnd(DV, s=0.1), "g_proj.weight": rnd(HV * DV, D), "o_proj.weight": rnd(D, HV * DV),
    }
    x = torch.randn(B, T, D, dtype=dt)

    q = l2norm(short_conv(x @ W["q_proj.weight"].T, W["q_conv1d.weight"]).view(B, T, H, DK)) * DK ** -0.5
    k = l2norm(short_conv(x @ W["k_proj.weight"].T, W["k_conv1d.weight"]).view(B, T, H, DK))
    # grouped value heads: value head j reads query/key head j // (HV // H), as HF Qwen3NextGatedDeltaNet
    q, k = q.repeat_interleave(HV // H, dim=2), k.repeat_interleave(HV // H, dim=2)
    v = short_conv(x @ W["v_proj.weight"].T, W["v_conv1d.weight"]).view(B, T, HV, DV)
    beta = torch.sigmoid(x @ W["b_proj.weight"].T)
    g = -torch.exp(W["A_log"]) * F.softplus(x @ W["a_proj.weight"].T + W["dt_bias"])

    S = torch.zeros(B, HV, DV, DK, dtype=dt)          # the paper's S: [d_v, d_k]
    eye = torch.eye(DK, dtype=dt)
    o = torch.zeros(B, T, HV, DV, dtype=dt)
    for t in range(T):
        kt, vt, qt = k[:, t], v[:, t], q[:, t]
        alpha, bt = torch.exp(g[:, t]), beta[:, t]
        trans = alpha[..., None, None] * (eye - bt[..., None, None] * kt[..., :, None] * kt[..., None, :])
        S = S @ trans + bt[..., None, None] * vt[..., :, None] * kt[..., None, :]
        o[:, t] = (S @ qt[..., :, None])[..., 0]

    o = o * torch.rsqrt((o * o).mean(-1, keepdim=True) + EPS) * W["o_norm.weight"]
    o = o.reshape(B, T, HV * DV) * F.silu(x @ W["g_proj.weight"].T)
    y = o @ W["o_proj.weight"].T

    out = {"block": "gated_deltanet", "B": B, "T": T, "D": D, "heads": H, "value_heads": HV, "head_dim": DK,
           "expand_v": EXPAND_V, "conv_size": K, "norm_eps": EPS, "weights": {n: w.flatten().tolist() for n, w in W.items()},
           "x": x.flatten().tolist(), "y": y.flatten().tolist()}
    path = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "golden", name + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    json.dump(out, open(path, "w"))
    print("wrote", os.path.normpath(path))


golden("gated_deltanet", H, 7)       # the same draws as before grouped value heads: the committed golden is unchanged
golden("gated_deltanet_gva", 2 * H, 8)
