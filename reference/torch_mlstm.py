#!/usr/bin/env python3
"""Golden for xLSTM's mLSTM layer (Beck et al. 2024), float64 on the CPU.

The cell is the official recurrent step (xlstm/blocks/mlstm/backends.py,
recurrent_step_stabilized_simple), applied token by token from zero states:

    log_f = logsigmoid(f~);  m_t = max(log_f + m_{t-1}, i~)
    f' = exp(log_f + m_{t-1} - m_t);  i' = exp(i~ - m_t);  k_s = k / sqrt(DH)
    C_t = f' C_{t-1} + i' k_s v^T;  n_t = f' n_{t-1} + i' k_s
    h~ = (q^T C_t) / (max(|q^T n_t|, exp(-m_t)) + EPS)

with EPS = 0: mixlab's cell has no eps (the official default 1e-6 shifts h~ by a relative ~1e-6
where |q^T n| is small). The layer around the cell is the paper's (eqs. 19-27, multi-head):
q, k, v = x W^T per head; gate pre-activations i~, f~ = x w^T + b per head; an output gate
sigmoid(x W_O^T); a per-head LayerNorm without affine weights (the official MultiHeadLayerNorm);
the output projection:  y = (sigmoid(x W_O^T) * norm(h~)) W_proj^T.
T = 70 crosses mixlab's 64-step chunk; the gate weights are random so the gates depend on x.

Writes src/test/resources/golden/mlstm.json (inputs, parameters with mixlab names, output y, and
the gradients of sum(y * ct) w.r.t. x and every parameter). The Java test
(dev.mixlab.arch.RecurrentGoldenTest) skips while the file is absent. Run from the repository root:

    python3 reference/torch_mlstm.py
"""
import json
import math
import sys
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.manual_seed(0)

B, T, D, H = 2, 70, 12, 3
DH = D // H
EPS = 0.0
NORM_EPS = 1e-5  # mixlab's norm_eps


def recurrent_step_stabilized_simple(c_state, n_state, m_state, q, k, v, igate_preact, fgate_preact, eps=EPS):
    # q, k, v: (B, NH, DH); gates: (B, NH); states (B, NH, DH, DH), (B, NH, DH, 1), (B, NH, 1, 1)
    q, k, v = q.unsqueeze(-1), k.unsqueeze(-1), v.unsqueeze(-1)
    igate_preact, fgate_preact = igate_preact.view(B, H, 1, 1), fgate_preact.view(B, H, 1, 1)
    log_fg_act = torch.nn.functional.logsigmoid(fgate_preact)
    m_state_new = torch.max(log_fg_act + m_state, igate_preact)
    fg_act = torch.exp(log_fg_act + m_state - m_state_new)
    ig_act = torch.exp(igate_preact - m_state_new)
    k_scaled = k / math.sqrt(DH)
    c_state_new = fg_act * c_state + ig_act * (k_scaled @ v.transpose(-1, -2))
    n_state_new = fg_act * n_state + ig_act * k_scaled
    h_num = q.transpose(-1, -2) @ c_state_new
    qn_dotproduct = q.transpose(-1, -2) @ n_state_new
    max_val = torch.exp(-m_state_new)
    h_denom = torch.maximum(qn_dotproduct.abs(), max_val) + eps
    h = h_num / h_denom  # (B, NH, 1, DH)
    return h.squeeze(2), (c_state_new, n_state_new, m_state_new)


def layer(x, w):
    q = (x @ w["mlstm.q.weight"].T).view(B, T, H, DH)
    k = (x @ w["mlstm.k.weight"].T).view(B, T, H, DH)
    v = (x @ w["mlstm.v.weight"].T).view(B, T, H, DH)
    ig = x @ w["mlstm.igate.weight"].T + w["mlstm.igate.bias"]  # (B, T, H)
    fg = x @ w["mlstm.fgate.weight"].T + w["mlstm.fgate.bias"]
    c, n, m = torch.zeros(B, H, DH, DH), torch.zeros(B, H, DH, 1), torch.zeros(B, H, 1, 1)
    hs = []
    for t in range(T):
        h, (c, n, m) = recurrent_step_stabilized_simple(c, n, m, q[:, t], k[:, t], v[:, t], ig[:, t], fg[:, t])
        hs.append(h)
    h = torch.stack(hs, dim=1)  # (B, T, H, DH)
    h = torch.nn.functional.layer_norm(h, (DH,), eps=NORM_EPS).reshape(B, T, H * DH)
    o = torch.sigmoid(x @ w["mlstm.ogate.weight"].T)
    return (o * h) @ w["mlstm.proj.weight"].T


def main():
    shapes = {
        "mlstm.q.weight": (H * DH, D),
        "mlstm.k.weight": (H * DH, D),
        "mlstm.v.weight": (H * DH, D),
        "mlstm.igate.weight": (H, D),
        "mlstm.igate.bias": (H,),
        "mlstm.fgate.weight": (H, D),
        "mlstm.fgate.bias": (H,),
        "mlstm.ogate.weight": (H * DH, D),
        "mlstm.proj.weight": (D, H * DH),
    }
    w = {n: torch.randn(*s) * 0.4 for n, s in shapes.items()}
    w["mlstm.igate.bias"] = torch.randn(H) * 2  # spread input gates: the stabiliser moves
    w["mlstm.fgate.bias"] = torch.linspace(3.0, 6.0, H) - 2.5  # official init, shifted to forget faster
    w = {n: t.requires_grad_() for n, t in w.items()}
    x = torch.randn(B, T, D).requires_grad_()
    ct = torch.randn(B, T, D)
    y = layer(x, w)
    (y * ct).sum().backward()
    out = {
        "config": {"batch": B, "seq_len": T, "model_dim": D, "heads": H, "head_dim": DH, "norm_eps": NORM_EPS},
        "x": x.detach().flatten().tolist(),
        "ct": ct.flatten().tolist(),
        "params": {n: {"shape": list(s), "data": w[n].detach().flatten().tolist()} for n, s in shapes.items()},
        "y": y.detach().flatten().tolist(),
        "grads": {"x": x.grad.flatten().tolist(), **{n: w[n].grad.flatten().tolist() for n in shapes}},
    }
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("src/test/resources/golden/mlstm.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out))
    print("wrote", path, "|y| =", float(y.norm()), "|dx| =", float(x.grad.norm()))


if __name__ == "__main__":
    main()
