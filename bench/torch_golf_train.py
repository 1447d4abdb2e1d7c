# PyTorch port of the parameter-golf baseline trainer (the seed's train_gpt_mlx.py recipe) for the
# GPU benchmark: same model as reference/torch_golf.py (9 layers, d=512, 8 heads / 4 KV heads, relu²
# MLP x2, vocab 1024, T=1024, U-Net skips, resid_mix, q_gain, qk-norm, RoPE, softcap 30, tied
# embedding), bf16 autocast, F.scaled_dot_product_attention (flash), torch.compile, Muon (NS5,
# Nesterov, momentum 0.95) on block matrices and Adam on the embedding/control tensors, 524,288
# tokens per step in 8 micro-batches of 64x1024. Prints tokens/s and peak memory.
# Usage: python3 bench/torch_golf_train.py TRAIN_GLOB [STEPS]
import glob, math, sys, time, numpy as np, torch, torch.nn.functional as F
torch.manual_seed(1337)
dev = "cuda"
V, L, D, H, KVH, T, MULT, SOFTCAP = 1024, 9, 512, 8, 4, 1024, 2, 30.0
B_MICRO, ACCUM = 64, 8
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
files = sorted(glob.glob(sys.argv[1]))
tokens = np.concatenate([np.fromfile(f, dtype="<u2", offset=1024).astype(np.int64) for f in files])
tok = torch.from_numpy(tokens)
pos = 0
def next_batch():
    global pos
    n = B_MICRO * T + 1
    if pos + n > len(tok): pos = 0
    chunk = tok[pos:pos + n].repeat(1 + n // len(tok))[:n] if len(tok) < n else tok[pos:pos + n]
    pos += n - 1
    return chunk[:-1].view(B_MICRO, T).to(dev, non_blocking=True), chunk[1:].view(B_MICRO, T).to(dev, non_blocking=True)
hd = D // H
def rms(x): return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-6)
inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, device=dev).float() / hd))
ang = torch.arange(T, device=dev).float()[:, None] * inv[None, :]
COS, SIN = ang.cos()[None, None], ang.sin()[None, None]
def rope(x):
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * COS - x2 * SIN, x1 * SIN + x2 * COS], -1)
P = {}
def param(name, shape, std=0.02, const=None):
    t = torch.full(shape, const, device=dev) if const is not None else torch.randn(shape, device=dev) * std
    P[name] = t.requires_grad_(); return P[name]
param("tok_emb", (V, D), 0.005)
for i in range(L):
    b = f"b{i}."
    param(b + "q", (D, D)); param(b + "k", (KVH * hd, D)); param(b + "v", (KVH * hd, D)); param(b + "proj", (D, D), const=0.0)
    param(b + "fc", (MULT * D, D)); param(b + "mproj", (D, MULT * D), const=0.0)
    param(b + "q_gain", (H,), const=1.5); param(b + "attn_scale", (D,), const=1.0); param(b + "mlp_scale", (D,), const=1.0)
    param(b + "mix0", (D,), const=1.0); param(b + "mix1", (D,), const=0.0)
NSKIP = L // 2
param("skip_weights", (NSKIP, D), const=1.0)
def block(i, x, x0):
    b = f"b{i}."
    x = P[b + "mix0"] * x + P[b + "mix1"] * x0
    h = rms(x); Bn = h.shape[0]
    q = (h @ P[b + "q"].t()).view(Bn, T, H, hd).transpose(1, 2)
    k = (h @ P[b + "k"].t()).view(Bn, T, KVH, hd).transpose(1, 2)
    v = (h @ P[b + "v"].t()).view(Bn, T, KVH, hd).transpose(1, 2)
    q = rope(rms(q)) * P[b + "q_gain"][None, :, None, None]; k = rope(rms(k))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True).transpose(1, 2).reshape(Bn, T, D)
    x = x + P[b + "attn_scale"] * (y @ P[b + "proj"].t())
    m = torch.relu(rms(x) @ P[b + "fc"].t())
    return x + P[b + "mlp_scale"] * ((m * m) @ P[b + "mproj"].t())
def model(ids, tgt):
    x = rms(P["tok_emb"][ids]); x0 = x; skips = []
    for i in range(L // 2): x = block(i, x, x0); skips.append(x)
    for j in range(L - L // 2):
        if skips: x = x + P["skip_weights"][j] * skips.pop()
        x = block(L // 2 + j, x, x0)
    z = rms(x) @ P["tok_emb"].t()
    return F.cross_entropy((SOFTCAP * torch.tanh(z / SOFTCAP)).float().view(-1, V), tgt.view(-1))
f = torch.compile(model)
mats = [p for n, p in P.items() if p.ndim == 2 and n != "tok_emb"]
others = [p for n, p in P.items() if not (p.ndim == 2 and n != "tok_emb")]
adam = torch.optim.Adam([{"params": [P["tok_emb"]], "lr": 0.05}, {"params": [p for p in others if p is not P["tok_emb"]], "lr": 0.04}],
                        betas=(0.9, 0.95), eps=1e-8, fused=True)
mom = [torch.zeros_like(p) for p in mats]
def ns5(g):
    a, b, c = 3.4445, -4.7750, 2.0315
    x = g.bfloat16(); x = x / (x.norm() + 1e-7); tr = x.shape[0] > x.shape[1]
    if tr: x = x.T
    for _ in range(5):
        A = x @ x.T; Bm = b * A + c * (A @ A); x = a * x + Bm @ x
    return (x.T if tr else x).float()
@torch.no_grad()
def muon_step(lr, m_coef):
    for p, buf in zip(mats, mom):
        buf.mul_(m_coef).add_(p.grad); g = p.grad.add(buf, alpha=m_coef)
        p.add_(ns5(g), alpha=-lr * max(1, p.shape[0] / p.shape[1]) ** 0.5)
ttot, ntok = 0.0, 0
for step in range(STEPS):
    torch.cuda.synchronize(); t0 = time.time()
    for _ in range(ACCUM):
        x, y = next_batch()
        with torch.autocast("cuda", torch.bfloat16): loss = f(x, y) / ACCUM
        loss.backward()
    muon_step(0.04, 0.85 + 0.10 * min(1, step / 500)); adam.step()
    for p in P.values(): p.grad = None
    torch.cuda.synchronize()
    if step >= 5: ttot += time.time() - t0; ntok += ACCUM * B_MICRO * T
    if step % 10 == 0: print(f"step {step} loss {loss.item() * ACCUM:.4f}", flush=True)
print(f"RESULT torch_golf tok/s={ntok / ttot:,.0f} ms/step={1000 * ttot / (STEPS - 5):.1f} peak_mem_mib={torch.cuda.max_memory_allocated() / 2**20:.0f}", flush=True)
