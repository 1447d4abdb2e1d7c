#!/usr/bin/env bash
# Mixer throughput on the GPU: attention vs gated_deltanet vs mamba2 (bench/blocks/*_d512.json:
# d=512, 4 layers, SwiGLU tail), each trained STEPS steps with --device cuda at every context in
# CONTEXTS (seq_len rewritten; batch_tokens stays 16384, so the batch shrinks as the context grows).
# Prints one line per (block, context): the median tok/s of the logged steps after the first two
# (compile and CUDA-graph capture), as `./mixlab train` reports them ("| N tok/s |").
#   bench/blocks-bench.sh                      contexts 1024 2048 4096, 60 steps
#   CONTEXTS="1024 4096" STEPS=100 bench/blocks-bench.sh
#   BLOCKS="attention gated_deltanet" bench/blocks-bench.sh     a subset (also retnet, rwkv, mlstm)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/mixlab-blocks}
STEPS=${STEPS:-60}
CONTEXTS=${CONTEXTS:-"1024 2048 4096"}
export MIXLAB_CACHE=${MIXLAB_CACHE:-/tmp/mixlab-cache}
mkdir -p "$OUT"
printf "%-16s %8s %14s\n" block context tok_per_s
for block in ${BLOCKS:-attention gated_deltanet mamba2}; do
  for ctx in $CONTEXTS; do
    cfg="$OUT/${block}_ctx${ctx}.json"
    # the config with seq_len replaced; data path made absolute (the copy lives elsewhere)
    python3 - "bench/blocks/${block}_d512.json" "$cfg" "$ctx" "$PWD/data/tinyshakespeare.txt" <<'PY'
import json, re, sys
src, dst, ctx, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
text = "\n".join(l for l in open(src).read().splitlines() if not l.lstrip().startswith("//"))
c = json.loads(text)
c["seq_len"] = ctx
c["name"] = c["name"] + "_ctx%d" % ctx
c["data"]["train"] = data
json.dump(c, open(dst, "w"), indent=2)
PY
    log="$OUT/${block}_ctx${ctx}.log"
    ./mixlab train "$cfg" --device cuda --steps "$STEPS" --out "$OUT/run-${block}-${ctx}" > "$log" 2>&1
    tps=$(python3 - "$log" <<'PY'
import re, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.startswith("step ")]
v = sorted(float(x.replace(",", "")) for x in re.findall(r"\| ([\d,]+) tok/s", "\n".join(lines[2:])))
print("%.0f" % v[len(v) // 2] if v else "FAILED (see log)")
PY
)
    printf "%-16s %8s %14s\n" "$block" "$ctx" "$tps"
  done
done
