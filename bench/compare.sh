#!/usr/bin/env bash
# Side-by-side: the engine's GPT training step and GEMM against the PyTorch peers, run back to back in one go
# so that both see the same machine load. Prints every raw line, then the ratios (ours / torch).
#   bench/compare.sh [rounds]     (default 2; each round runs every setting once, the best round counts)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2}"
python=/usr/bin/python3
# The peer lives in the shared folder beside the repository (../shared), or beside a worktree's parent (../../shared).
torch_gpt=${TORCH_GPT_REF:-../shared/bench/torch_gpt_ref.py}
[ -f "$torch_gpt" ] || torch_gpt=../../shared/bench/torch_gpt_ref.py
engine=bench/Pipelines.Benchmarks/bin/Release/net10.0/Pipelines.Benchmarks.dll
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet build bench/Pipelines.Benchmarks -c Release -nologo -v quiet >/dev/null

tokens() { sed -n 's/.*tokens_per_s=\([0-9.]*\).*/\1/p'; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }

echo "== training step (reference configuration, 20 steps), $rounds round(s), load: $(cut -d' ' -f1-3 /proc/loadavg)"
ours=0; theirs=0; ours_setting=""; theirs_setting=""
for round in $(seq "$rounds"); do
  for threads in 2 1; do
    line=$(dotnet "$engine" train --steps 20 --threads "$threads"); echo "$line"
    value=$(echo "$line" | tokens)
    if [ "$(best "$value" "$ours")" = "$value" ]; then ours=$value; ours_setting="--threads $threads"; fi
  done
  for setting in "2 1" "1 2"; do
    set -- $setting
    line=$(OPENBLAS_NUM_THREADS=$1 "$python" "$torch_gpt" --threads "$2" --steps 20); echo "$line (OPENBLAS_NUM_THREADS=$1 --threads $2)"
    value=$(echo "$line" | tokens)
    if [ "$(best "$value" "$theirs")" = "$value" ]; then theirs=$value; theirs_setting="OPENBLAS_NUM_THREADS=$1 --threads $2"; fi
  done
done

echo "== GEMM (square, GFLOP/s)"
ours_gemm=$(dotnet "$engine" gemm --threads 1 2 --repetitions 5); echo "$ours_gemm"
torch_gemm=$( { OPENBLAS_NUM_THREADS=1 "$python" bench/torch_gemm_ref.py --threads 1 --repetitions 5;
                OPENBLAS_NUM_THREADS=2 "$python" bench/torch_gemm_ref.py --threads 1 --repetitions 5 | sed 's/threads=1/threads=2/'; } | grep '^gemm')
echo "$torch_gemm" | sed 's/^/torch /'

echo "== ratios (ours / torch)"
awk -v a="$ours" -v b="$theirs" -v sa="$ours_setting" -v sb="$theirs_setting" \
  'BEGIN { printf "train tokens/s: ours %.0f (%s) / torch %.0f (%s) = %.2fx\n", a, sa, b, sb, a / b }'
normalize() { grep '^gemm' | sed 's/n= */n=/'; }
paste <(echo "$ours_gemm" | normalize) <(echo "$torch_gemm" | normalize) | awk '{
  # gemm n=<n> threads=<t> <GFLOP/s> GFLOP/s, ours then torch (same order: threads 1 then 2, n ascending)
  printf "gemm %s %s: ours %s / torch %s GFLOP/s = %.2fx\n", $2, $3, $4, $9, $4 / $9
}'
