#!/usr/bin/env python3
"""PyTorch port of the parameter-golf baseline GPT (train_gpt_mlx.py's model) for mixlab goldens.

Usage:
    python3 reference/torch_golf.py OUT_DIR    # needs torch; writes OUT_DIR/golden_golf.safetensors

A shrunken copy of the seed's model (see GOLF below), computed on the CPU in float64, single-threaded,
from a fixed seed: initial weights, one batch, the logits (after the softcap), the mean cross-entropy
loss and the gradient of every parameter. No optimizer step (the seed's Muon/Adam split is checked
elsewhere). The model is written out op by op after the seed's classes:

    rms_norm(x)         x * rsqrt(mean(x*x, -1) + eps), eps 1e-6, no weight
    CausalSelfAttention c_q/c_k/c_v (no bias) -> [B,H,T,hd]; q, k = rope(rms_norm(q)), rope(rms_norm(k))
                        (MLX nn.RoPE(traditional=False): half rotation, pairs (j, j+hd/2), angle
                        t*base^(-2j/hd)); q *= q_gain[h]; causal softmax(q k^T / sqrt(hd)) v with
                        grouped-query heads (query head h reads kv head h // (H/KVH)); proj
    MLP                 proj(relu(fc(x))^2)
    Block(x, x0)        x = mix[0]*x + mix[1]*x0; x += attn_scale * attn(rms_norm(x));
                        x += mlp_scale * mlp(rms_norm(x))
    GPT                 x = rms_norm(tok_emb[ids]); x0 = x; the first L//2 blocks push their outputs;
                        each of the other blocks first adds skip_weights[i] * skips.pop() while
                        skips remain; logits = softcap(rms_norm(x) @ tok_emb^T), c*tanh(z/c), c = 30

Differences from the seed's *initialisation* (not its function), so that every gradient is non-trivial:
the output projections (attn.proj, mlp.proj) are drawn from N(0, 0.02) instead of zeros, and the
control tensors (q_gain, attn_scale, mlp_scale, resid_mix, skip_weights) get their seed values plus
N(0, 0.1) noise. The embedding keeps the seed's std 0.005, the other matrices N(0, 0.02).

Parameter names are mixlab's. The seed's resid_mix [2, D] is stored by rows as
blocks.<i>.resid_mix.0 / .1, and its skip_weights [num_skips, D] as skip_weights.<k>; everything
else has the seed's name and shape (c_q/c_k/c_v are mixlab's attn.q/k/v). The equivalent mixlab
config is embedded as metadata "config" (zero_init_proj true as the seed: it only affects init).

The safetensors writer is reference/torch_gpt.py's (hand-written, no numpy/safetensors needed).
"""

import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_gpt import read_safetensors, write_safetensors  # noqa: E402

GOLF = dict(file="golden_golf.safetensors", name="golden_golf",
            V=256, L=5, D=64, H=4, KVH=2, T=32, B=2, mlp_mult=2,
            eps=1e-6, rope_base=10000.0, qk_gain_init=1.5, softcap=30.0,
            tied_embed_init_std=0.005, init_std=0.02, control_noise=0.1)
SEED = 0


def mixlab_config(c):
    """The equivalent mixlab config, in mixlab's vocabulary."""
    return {
        "name": c["name"],
        "model_dim": c["D"],
        "vocab_size": c["V"],
        "seq_len": c["T"],
        "mlp_mult": c["mlp_mult"],
        "blocks": [{"type": "plain", "heads": c["H"], "kv_heads": c["KVH"], "activation": "relu2",
                    "ffn": "mlp", "repeat": c["L"]}],
        "tie_embeddings": True,
        "dropout": 0.0,
        "positional_embedding": "rope",
        "norm_type": "rmsnorm",
        "norm_eps": c["eps"],
        "norm_weight": False,
        "bias": False,
        "init_std": c["init_std"],
        "rope_base": c["rope_base"],
        "rope_interleaved": False,
        "qk_norm": True,
        "q_gain": True,
        "qk_gain_init": c["qk_gain_init"],
        "branch_scales": True,
        "resid_mix": True,
        "unet_skips": True,
        "logit_softcap": c["softcap"],
        "tied_embed_init_std": c["tied_embed_init_std"],
        "zero_init_proj": True,
        "embed_norm": True,
        "training": {"batch_tokens": c["B"] * c["T"]},
    }


def num_skips(c):
    enc = c["L"] // 2
    return min(enc, c["L"] - enc)


def init_params(torch, c):
    """The seed's tensors (seed shapes: resid_mix [2,D], skip_weights [S,D]), float64 leaves."""
    V, L, D, H, KVH = c["V"], c["L"], c["D"], c["H"], c["KVH"]
    hd = D // H
    hidden = D * c["mlp_mult"]
    std, noise = c["init_std"], c["control_noise"]
    p = {}

    def normal(name, shape, s):
        p[name] = torch.empty(shape, dtype=torch.float64).normal_(0.0, s)

    def control(name, base):
        p[name] = base + torch.empty(base.shape, dtype=torch.float64).normal_(0.0, noise)

    normal("tok_emb.weight", (V, D), c["tied_embed_init_std"])
    control("skip_weights", torch.ones(num_skips(c), D, dtype=torch.float64))
    for i in range(L):
        b = "blocks.%d." % i
        normal(b + "attn.q.weight", (H * hd, D), std)
        normal(b + "attn.k.weight", (KVH * hd, D), std)
        normal(b + "attn.v.weight", (KVH * hd, D), std)
        normal(b + "attn.proj.weight", (D, H * hd), std)       # the seed: zeros
        control(b + "attn.q_gain", torch.full((H,), c["qk_gain_init"], dtype=torch.float64))
        normal(b + "mlp.fc.weight", (hidden, D), std)
        normal(b + "mlp.proj.weight", (D, hidden), std)        # the seed: zeros
        control(b + "attn_scale", torch.ones(D, dtype=torch.float64))
        control(b + "mlp_scale", torch.ones(D, dtype=torch.float64))
        control(b + "resid_mix", torch.stack((torch.ones(D, dtype=torch.float64),
                                              torch.zeros(D, dtype=torch.float64))))
    for t in p.values():
        t.requires_grad_(True)
    return p


def rms_norm(torch, c, x):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + c["eps"])


def rope(torch, c, x):
    """Half rotation on [B, heads, T, hd]: pairs (j, j + hd/2), angle = t * base^(-2j/hd)."""
    T, hd = x.shape[-2], x.shape[-1]
    half = hd // 2
    j = torch.arange(half, dtype=torch.float64)
    inv_freq = torch.pow(torch.tensor(c["rope_base"], dtype=torch.float64), -2.0 * j / hd)
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]  # [T, half]
    cos, sin = torch.cos(ang), torch.sin(ang)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def attention(torch, c, p, b, x):
    B, T, D = x.shape
    H, KVH = c["H"], c["KVH"]
    hd = D // H
    q = (x @ p[b + "attn.q.weight"].t()).view(B, T, H, hd).transpose(1, 2)      # [B, H, T, hd]
    k = (x @ p[b + "attn.k.weight"].t()).view(B, T, KVH, hd).transpose(1, 2)    # [B, KVH, T, hd]
    v = (x @ p[b + "attn.v.weight"].t()).view(B, T, KVH, hd).transpose(1, 2)
    q = rope(torch, c, rms_norm(torch, c, q))
    k = rope(torch, c, rms_norm(torch, c, k))
    q = q * p[b + "attn.q_gain"][None, :, None, None]
    group = H // KVH
    if group > 1:
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    att = (q @ k.transpose(-2, -1)) * (hd ** -0.5)
    causal = torch.triu(torch.ones(T, T), diagonal=1).bool()  # True = masked (j > i)
    att = torch.softmax(att.masked_fill(causal, float("-inf")), dim=-1)
    y = (att @ v).transpose(1, 2).reshape(B, T, D)
    return y @ p[b + "attn.proj.weight"].t()


def mlp(torch, p, b, x):
    h = torch.relu(x @ p[b + "mlp.fc.weight"].t())
    return (h * h) @ p[b + "mlp.proj.weight"].t()


def block(torch, c, p, i, x, x0):
    b = "blocks.%d." % i
    mix = p[b + "resid_mix"]
    x = mix[0][None, None, :] * x + mix[1][None, None, :] * x0
    x = x + p[b + "attn_scale"][None, None, :] * attention(torch, c, p, b, rms_norm(torch, c, x))
    x = x + p[b + "mlp_scale"][None, None, :] * mlp(torch, p, b, rms_norm(torch, c, x))
    return x


def forward(torch, F, c, p, ids, targets):
    """Returns (loss, logits); ids/targets int64 [B, T]."""
    B, T = ids.shape
    x = rms_norm(torch, c, p["tok_emb.weight"][ids])
    x0 = x
    enc = c["L"] // 2
    skips = []
    for i in range(enc):
        x = block(torch, c, p, i, x, x0)
        skips.append(x)
    for i in range(c["L"] - enc):
        if skips:
            x = x + p["skip_weights"][i][None, None, :] * skips.pop()
        x = block(torch, c, p, enc + i, x, x0)
    x = rms_norm(torch, c, x)
    z = x @ p["tok_emb.weight"].t()
    logits = c["softcap"] * torch.tanh(z / c["softcap"])
    loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T), reduction="mean")
    return loss, logits


def _flat(t):
    return t.detach().to("cpu").contiguous().reshape(-1).tolist()


def mixlab_tensors(c, tensors):
    """Seed-shaped tensors -> mixlab names: resid_mix and skip_weights split by rows."""
    out = {}
    for name, t in tensors.items():
        if name == "skip_weights":
            for k in range(t.shape[0]):
                out["skip_weights.%d" % k] = t[k]
        elif name.endswith(".resid_mix"):
            out[name + ".0"] = t[0]
            out[name + ".1"] = t[1]
        else:
            out[name] = t
    return out


def run(torch, F, c, out_dir):
    torch.manual_seed(SEED)
    B, T, V = c["B"], c["T"], c["V"]
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    p = init_params(torch, c)
    loss, logits = forward(torch, F, c, p, ids, targets)
    loss.backward()
    params = mixlab_tensors(c, {n: t.detach() for n, t in p.items()})
    grads = mixlab_tensors(c, {n: t.grad.detach() for n, t in p.items()})

    tensors = {}
    for n in params:
        tensors["param." + n] = ("F64", list(params[n].shape), _flat(params[n]))
        tensors["grad." + n] = ("F64", list(grads[n].shape), _flat(grads[n]))
    tensors["logits"] = ("F64", [B, T, V], _flat(logits))
    tensors["batch.x"] = ("I32", [B, T], _flat(ids))
    tensors["batch.y"] = ("I32", [B, T], _flat(targets))
    tensors["loss"] = ("F64", [1], [loss.item()])

    desc = (
        "mixlab golden (%s): the parameter-golf baseline GPT (train_gpt_mlx.py) shrunk to B=%d T=%d V=%d "
        "L=%d D=%d H=%d KVH=%d mlp_mult=%d, computed by reference/torch_golf.py on the CPU in float64. "
        "param.* = initial weights (output projections N(0,%g) instead of zeros, control tensors = seed "
        "init + N(0,%g), tok_emb N(0,%g)); grad.* = gradients of the mean cross-entropy at those weights; "
        "logits [B,T,V] after the softcap %g; batch.x/batch.y = input ids/targets; loss[0] = the loss. "
        "resid_mix [2,D] is stored as resid_mix.0/.1 and skip_weights [S,D] as skip_weights.<k>. "
        "torch seed %d."
        % (c["name"], B, T, V, c["L"], c["D"], c["H"], c["KVH"], c["mlp_mult"], c["init_std"],
           c["control_noise"], c["tied_embed_init_std"], c["softcap"], SEED))
    metadata = {
        "config": json.dumps(mixlab_config(c)),
        "torch_version": str(torch.__version__),
        "description": desc,
    }
    path = os.path.join(out_dir, c["file"])
    write_safetensors(path, tensors, metadata)
    print("%s: loss %.12f, %d parameter tensors" % (path, loss.item(), len(params)))
    return path


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: %s OUT_DIR\n" % argv[0])
        return 2
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    c = GOLF
    assert c["D"] % c["H"] == 0 and c["H"] % c["KVH"] == 0 and (c["D"] // c["H"]) % 2 == 0
    os.makedirs(argv[1], exist_ok=True)
    path = run(torch, F, c, argv[1])
    meta, t = read_safetensors(path)
    json.loads(meta["config"])
    assert t["logits"][1] == [c["B"], c["T"], c["V"]]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
