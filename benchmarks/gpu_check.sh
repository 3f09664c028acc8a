#!/usr/bin/env bash
# The GPU checks of issues 5 and 6, as one prepared run on a bare GPU machine (torch + transformers +
# pyyaml, no network, no Node, so no Lean): batched vs unbatched generation on CUDA and CPU, training
# speed on CUDA vs CPU, and a `small` policy trained on the seen split's traced steps (brought back as a
# tarball to try in benchmarks/search.py on a CPU machine).  Writes its results under $OUT (default ./gpu-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
log="$OUT/gpu_check.log"
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1
  $PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__, 'cuda', torch.cuda.is_available(), 'cpu threads', torch.get_num_threads())"
} >"$log" 2>&1

step() {  # step NAME SECONDS CMD...: run one check with its own time limit; a failure does not stop the rest
  local name=$1 secs=$2; shift 2
  echo "== $name: $*" >>"$log"
  local t0=$SECONDS
  timeout "$secs" "$@" >"$OUT/$name.json" 2>>"$log"; echo "== $name rc=$? in $((SECONDS - t0)) s" >>"$log"
}

step generation_cuda 120 $PY benchmarks/generation.py --devices cuda --size tiny
step generation_cuda_base 80 $PY benchmarks/generation.py --devices cuda --size base --max-batch 64 --repeats 2
step training_speed 130 $PY benchmarks/training_speed.py --sizes tiny,small,base --cpu-steps 8 --cuda-steps 60

# A stronger policy for the search benchmark: the seen split only (the targets' proofs are what is measured).
$PY - <<'EOF' >>"$log" 2>&1
import json
seen = set(json.load(open("data/split.json"))["seen"])
rows = [l for l in open("data/trace.jsonl") if l.strip() and json.loads(l)["theorem"] in seen]
open("/tmp/seen.jsonl", "w").writelines(rows)
print("seen-split training rows:", len(rows))
EOF
printf 'lr: 0.0005\nepochs: 1000\nbatch_size: 16\nmax_steps: 1500\nwarmup: 50\nweight_decay: 0.01\ndevice: auto\n' >/tmp/sft_small.yaml
step train_small 120 $PY -m training.cli train /tmp/seen.jsonl --out /tmp/policy_small --size small --config /tmp/sft_small.yaml --json
[ -d /tmp/policy_small ] && tar -C /tmp -czf "$OUT/policy_small.tgz" policy_small

step generation_cpu 90 $PY benchmarks/generation.py --devices cpu --size tiny --max-batch 64 --repeats 1
echo "done $(date -u)" >>"$log"
