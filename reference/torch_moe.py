#!/usr/bin/env python3
"""Golden for ONE mixture-of-experts FFN layer with Hugging Face Mixtral semantics, float64 on the CPU.

Re-implements transformers' MixtralSparseMoeBlock (modeling_mixtral.py) and its
load_balancing_loss_func independently of mixlab's Java code:

  * router_logits = x @ gate.T                                  [N, E]
  * routing_weights = softmax(router_logits, dim=1); top-k of them; renormalised to sum 1 per token
  * each expert: w2( silu(w1 x) * w3 x ), run on the tokens that selected it (index_add_ back)
  * aux = E * sum_e ( mean_n sum_k onehot(selected)[n,k,e] ) * ( mean_n softmax[n,e] )
    (load_balancing_loss_func for one layer: tokens_per_expert [K,E] times router_prob_per_expert)

Plus a DeepSeek-V3-style variant: sigmoid affinities, top-k chosen on affinity + a fixed bias
(the bias steers the choice only), gates = selected affinities / their sum, one shared expert
(a dense SwiGLU of the expert width) added to every token, no aux loss.

mixlab names: x -> the layer input [N, D]; router -> blocks.0.moe.router.weight [E, D];
w1 -> experts.gate.weight [E, H, D], w3 -> experts.up.weight [E, H, D], w2 -> experts.proj.weight [E, D, H];
shared.{gate,up,proj}.weight; bias -> router.balance_bias.

Loss for the gradients: L = sum(y * ct) + coef * aux (coef = 0.02, Mixtral-8x7B's router_aux_loss_coef).
Writes src/test/resources/golden/moe.json: for each case, its settings, inputs, weights, outputs y,
aux, and grad.<name> for x and every weight. Run from the repository root:

    python3 reference/torch_moe.py
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

N, D, H, E, K = 12, 8, 12, 4, 2
COEF = 0.02


def expert(x, w1, w3, w2):
    return (F.silu(x @ w1.T) * (x @ w3.T)) @ w2.T


def mixtral_block(x, router, w1, w3, w2, top_k):
    router_logits = x @ router.T
    routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float64)
    routing_weights, selected = torch.topk(routing_weights, top_k, dim=-1)
    routing_weights = routing_weights / routing_weights.sum(dim=-1, keepdim=True)
    final = torch.zeros_like(x)
    expert_mask = F.one_hot(selected, num_classes=E).permute(2, 1, 0)  # [E, K, N]
    for e in range(E):
        idx, top_x = torch.where(expert_mask[e])
        if top_x.numel() == 0:
            continue
        h = expert(x[top_x], w1[e], w3[e], w2[e]) * routing_weights[top_x, idx, None]
        final = final.index_add(0, top_x, h)
    return final, router_logits


def load_balancing_loss(router_logits, top_k):
    routing_weights = F.softmax(router_logits, dim=-1)
    _, selected = torch.topk(routing_weights, top_k, dim=-1)
    expert_mask = F.one_hot(selected, E).to(torch.float64)  # [N, K, E]
    tokens_per_expert = torch.mean(expert_mask, dim=0)  # [K, E]
    router_prob_per_expert = torch.mean(routing_weights, dim=0)  # [E]
    return torch.sum(tokens_per_expert * router_prob_per_expert.unsqueeze(0)) * E


def sigmoid_block(x, router, bias, w1, w3, w2, s1, s3, s2, top_k):
    scores = torch.sigmoid(x @ router.T)
    _, selected = torch.topk(scores + bias, top_k, dim=-1)
    weights = scores.gather(1, selected)
    weights = weights / weights.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(x)
    for n in range(x.shape[0]):
        for j in range(top_k):
            e = int(selected[n, j])
            out[n] = out[n] + weights[n, j] * expert(x[n:n + 1], w1[e], w3[e], w2[e])[0]
    return out + expert(x, s1, s3, s2)


def leaf(*shape, scale=0.5):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.manual_seed(0)
    cases = []
    # Mixtral: softmax router, top-2 of 4 SwiGLU experts, aux loss
    x, router = leaf(N, D), leaf(E, D)
    w1, w3, w2 = leaf(E, H, D), leaf(E, H, D), leaf(E, D, H)
    ct = torch.randn(N, D)
    y, logits = mixtral_block(x, router, w1, w3, w2, K)
    aux = load_balancing_loss(logits, K)
    loss = (y * ct).sum() + COEF * aux
    names = {"x": x, "router.weight": router, "experts.gate.weight": w1, "experts.up.weight": w3,
             "experts.proj.weight": w2}
    grads = torch.autograd.grad(loss, list(names.values()))
    cases.append({"name": "mixtral", "router": "softmax", "top_k": K, "aux_loss_coef": COEF, "shared_experts": 0,
                  "shapes": {k: list(v.shape) for k, v in names.items()}, "ct": flat(ct),
                  "values": {k: flat(v) for k, v in names.items()}, "y": flat(y), "aux": float(COEF * aux),
                  "grads": {k: flat(g) for k, g in zip(names, grads)}})
    # DeepSeek-V3 style: sigmoid router, a fixed balancing bias, one shared expert, no aux loss
    x, router = leaf(N, D), leaf(E, D)
    bias = torch.randn(E) * 0.3
    w1, w3, w2 = leaf(E, H, D), leaf(E, H, D), leaf(E, D, H)
    s1, s3, s2 = leaf(H, D), leaf(H, D), leaf(D, H)
    ct = torch.randn(N, D)
    y = sigmoid_block(x, router, bias, w1, w3, w2, s1, s3, s2, K)
    names = {"x": x, "router.weight": router, "experts.gate.weight": w1, "experts.up.weight": w3,
             "experts.proj.weight": w2, "shared.gate.weight": s1, "shared.up.weight": s3, "shared.proj.weight": s2}
    grads = torch.autograd.grad((y * ct).sum(), list(names.values()))
    values = {k: flat(v) for k, v in names.items()}
    values["router.balance_bias"] = flat(bias)
    shapes = {k: list(v.shape) for k, v in names.items()}
    shapes["router.balance_bias"] = [E]
    cases.append({"name": "sigmoid bias shared", "router": "sigmoid", "top_k": K, "aux_loss_coef": 0.0,
                  "shared_experts": 1, "shapes": shapes, "ct": flat(ct), "values": values, "y": flat(y), "aux": 0.0,
                  "grads": {k: flat(g) for k, g in zip(names, grads)}})
    out = Path("src/test/resources/golden/moe.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"N": N, "D": D, "H": H, "E": E, "source": "reference/torch_moe.py",
                               "torch": torch.__version__, "cases": cases}, indent=1) + "\n")
    print("wrote", out, "mixtral aux", cases[0]["aux"])


if __name__ == "__main__":
    main()
