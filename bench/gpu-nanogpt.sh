#!/usr/bin/env bash
# The nanoGPT Shakespeare benchmark, for the GPU machine: the PyTorch yardstick
# (bench/torch_nanogpt_char.py, a verbatim copy of the shared one: eager 300 steps, torch.compile 300
# steps, then a full compiled 5000-step run) and mixlab on examples/shakespeare_char.json, in one run
# on one card. Ends with one JSON line of the figures.
#   bench/gpu-nanogpt.sh            mixlab: 300 steps (throughput)
#   bench/gpu-nanogpt.sh --full     mixlab: the full 5000 steps too (best val loss, wall time)
# MFU: FLOPs/token = 6N + 12·L·d·T (N = 10,720,128 parameters without position embeddings, L=6,
# d=384, T=256: nanoGPT's estimate_mfu), against 989.4 TFLOP/s (H100 SXM dense bf16 peak).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp}
FULL=${1:-}
export MIXLAB_CACHE=${MIXLAB_CACHE:-/tmp/mixlab-cache}
card=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1)
PYTHONUNBUFFERED=1 python3 - > "$OUT/torch.log" 2>&1 <<'PY'
import runpy, sys, torch
sys.argv = ["torch_nanogpt_char.py", "data/tinyshakespeare.txt"]
runpy.run_path("bench/torch_nanogpt_char.py", run_name="__main__")
print("PEAK_MEM", torch.cuda.max_memory_allocated())
PY
STEPS=300; [ "$FULL" = "--full" ] && STEPS=5000
./mixlab train examples/shakespeare_char.json --device cuda --steps $STEPS --out "$OUT/mixlab-run" > "$OUT/mixlab.log" 2>&1
python3 - "$OUT" "$card" "$STEPS" <<'PY'
import json, re, sys
out, card, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = open(out + "/torch.log").read(); m = open(out + "/mixlab.log").read()
res = re.findall(r"RESULT compile=(\w+).*?tok/s=([\d,]+) ms/step=([\d.]+) best_val=([\w.]+) wall=(\d+)s", t)
peak = re.search(r"PEAK_MEM (\d+)", t)
flops = 6 * 10_720_128 + 12 * 6 * 384 * 256
def mfu(tps): return tps * flops / 989.4e12
rows = [(c == "True", float(tp.replace(",", "")), float(ms), bv, int(w)) for c, tp, ms, bv, w in res]
eager = rows[0] if rows else None; comp = rows[1] if len(rows) > 1 else None; full = rows[2] if len(rows) > 2 else None
lines = [l for l in m.splitlines() if l.startswith("step ")]
tps = [float(x.replace(",", "")) for x in re.findall(r"\| ([\d,]+) tok/s", "\n".join(lines[2:]))]
mix_tps = sorted(tps)[len(tps) // 2] if tps else float("nan")
done = re.search(r"done: (\d+) steps in (\S+) .*best ([\d.]+)", m)
mem = re.search(r"device memory: (\d+) MiB", m)
start = re.search(r"start-up: first step line ([\d.]+) s", m)   # from the command to the first loss line
fig = {"card": card, "flops_per_token": flops,
       "torch_eager_tok_s": eager and eager[1], "torch_compile_tok_s": comp and comp[1],
       "torch_compile_ms_step": comp and comp[2], "torch_compile_mfu": comp and round(mfu(comp[1]), 4),
       "torch_full_best_val": full and float(full[3]), "torch_full_wall_s": full and full[4],
       "torch_peak_mem_mib": peak and round(int(peak.group(1)) / 2**20),
       "mixlab_tok_s": mix_tps, "mixlab_ms_step": round(16384 / mix_tps * 1000, 2) if tps else None,
       "mixlab_mfu": round(mfu(mix_tps), 4), "mixlab_steps": steps,
       "mixlab_best_val": done and float(done.group(3)), "mixlab_wall": done and done.group(2),
       "mixlab_device_mem_mib": mem and int(mem.group(1)),
       "mixlab_first_line_s": start and float(start.group(1)),
       "ratio_vs_torch_compile": comp and round(mix_tps / comp[1], 3)}
print(json.dumps(fig))
PY
