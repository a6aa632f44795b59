#!/usr/bin/env bash
# Side-by-side GPT training throughput on the reference configuration (4 layers, 4 heads, width 256, context 128,
# vocabulary 2,048, batch 8, AdamW 3e-4) of four peers, interleaved so that all see the same minutes of load:
#   managed   the managed engine                         Pipelines.Benchmarks train
#   backend   our TorchSharp backend, public boundary    Pipelines.Benchmarks.TorchSharp backend
#   plain     a plain TorchSharp loop (own modules)      Pipelines.Benchmarks.TorchSharp plain
#   pytorch   PyTorch 1.13 eager (Debian python3-torch)  ../shared/bench/torch_gpt_ref.py
# Each round runs every peer at 1 and at 2 threads, in an order that rotates from round to round. Prints every raw
# line, then per peer the median tokens/s of each thread setting, the best setting, the ratios and the peak RSS.
#   bench/compare.sh [rounds]      (default 5; STEPS=20 timed steps per run after 3 warm-up steps)
# PyTorch's "2 threads" is OPENBLAS_NUM_THREADS=2 --threads 1 (its GEMMs on two OpenBLAS threads, its other ops on one:
# the fastest two-core setting measured; with --threads 2 too, OpenMP and OpenBLAS oversubscribe the two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
steps="${STEPS:-20}"
python=/usr/bin/python3
# The PyTorch peer lives in the shared folder beside the repository (../shared), or beside a worktree's parent.
torch_gpt=${TORCH_GPT_REF:-../shared/bench/torch_gpt_ref.py}
[ -f "$torch_gpt" ] || torch_gpt=../../shared/bench/torch_gpt_ref.py
engine=bench/Pipelines.Benchmarks/bin/Release/net10.0/Pipelines.Benchmarks.dll
torchsharp=bench/Pipelines.Benchmarks.TorchSharp/bin/Release/net10.0/Pipelines.Benchmarks.TorchSharp.dll
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet build bench/Pipelines.Benchmarks -c Release -nologo -v quiet >/dev/null
dotnet build bench/Pipelines.Benchmarks.TorchSharp -c Release -nologo -v quiet >/dev/null

# One run of a peer at a thread count: prints its line; appends "peer threads tokens_per_s peak_rss_mb" to $results.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
run() {
  local peer=$1 threads=$2 line
  case $peer in
    managed) line=$(dotnet "$engine" train --steps "$steps" --threads "$threads") ;;
    backend|plain) line=$(dotnet "$torchsharp" "$peer" --steps "$steps" --threads "$threads") ;;
    pytorch)
      # ru_maxrss (KiB on Linux) is the same peak as VmHWM.
      line=$(OPENBLAS_NUM_THREADS=$threads "$python" -c 'import os, resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
print(" peak_rss_mb=%.0f (OPENBLAS_NUM_THREADS=%s --threads 1)" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, os.environ["OPENBLAS_NUM_THREADS"]))' \
        "$torch_gpt" --steps "$steps" --threads 1 2>/dev/null | paste -sd' ' ) ;;
  esac
  echo "$peer: $line"
  echo "$peer $threads $(echo "$line" | sed -n 's/.*tokens_per_s=\([0-9.]*\).*/\1/p') $(echo "$line" | sed -n 's/.*peak_rss_mb=\([0-9.]*\).*/\1/p') $round" >> "$results"
}

# PEERS="managed plain" bench/compare.sh 3 times a subset (a ratio naming a missing peer prints as 0).
read -r -a peers <<< "${PEERS:-managed backend plain pytorch}"
if [[ " ${peers[*]} " == *" pytorch "* ]]; then
  "$python" -c 'import torch' 2>/dev/null || { echo "PyTorch missing: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }
fi
echo "== training step, reference configuration, $steps steps per run, $rounds round(s); $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg); $(grep -o -m1 -w avx512f /proc/cpuinfo || grep -o -m1 -w avx2 /proc/cpuinfo || echo 'no avx2')"
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    for index in "${!peers[@]}"; do run "${peers[$(( (index + round - 1) % ${#peers[@]} ))]}" "$threads"; done
  done
done
echo "== end; load $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per peer and thread count; the best thread count per peer; ratios at the best settings and at one thread.
awk -v peers="${peers[*]}" '
  { values[$1 " " $2] = values[$1 " " $2] " " $3; rss[$1] = ($4 > rss[$1] ? $4 : rss[$1]); of[$1 " " $2 " " $5] = $3; rounds = ($5 > rounds ? $5 : rounds) }
  # The median over rounds of the ratio of two peers run in the same round (issue 15 quotes ratios of alternating pairs).
  function ratio(x, y) { return (x > 0 && y > 0) ? x / y : 0 }
  function pairs(a, b, threads,    r, list) {
    list = ""
    for (r = 1; r <= rounds; r++) if ((a " " threads " " r) in of && (b " " threads " " r) in of) list = list " " ratio(of[a " " threads " " r], of[b " " threads " " r])
    return list == "" ? 0 : median(list)
  }
  function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    n = split(peers, names, " ")
    print "== median tokens/s (peak RSS is the largest of the peer'"'"'s runs)"
    for (i = 1; i <= n; i++) {
      p = names[i]; one[p] = median(values[p " 1"]); two[p] = median(values[p " 2"])
      best[p] = (one[p] >= two[p]) ? one[p] : two[p]; at[p] = (one[p] >= two[p]) ? 1 : 2
      printf "%-8s threads=1 %6.0f   threads=2 %6.0f   best %6.0f (threads=%d)   peak_rss_mb=%.0f\n", p, one[p], two[p], best[p], at[p], rss[p]
    }
    print "== ratios of median tokens/s, each peer at its best thread setting"
    printf "managed / plain-TorchSharp = %.3fx (issue 15: >= 1.25 %s)\n", ratio(best["managed"], best["plain"]), ((ratio(best["managed"], best["plain"]) >= 1.25) ? "met" : "NOT met")
    printf "backend / plain-TorchSharp = %.3f (issue 9: >= 0.95 %s)\n", ratio(best["backend"], best["plain"]), ((ratio(best["backend"], best["plain"]) >= 0.95) ? "met" : "NOT met")
    printf "managed / PyTorch 1.13     = %.2fx\n", ratio(best["managed"], best["pytorch"])
    print "== ratios at one thread"
    printf "managed / plain-TorchSharp = %.3fx (issue 15: >= 1.25 %s)\n", ratio(one["managed"], one["plain"]), ((ratio(one["managed"], one["plain"]) >= 1.25) ? "met" : "NOT met")
    printf "backend / plain-TorchSharp = %.3f\n", ratio(one["backend"], one["plain"])
    printf "managed / PyTorch 1.13     = %.2fx\n", ratio(one["managed"], one["pytorch"])
    print "== median of the per-round ratios (each pair run in the same round)"
    printf "managed / plain-TorchSharp: threads=1 %.3fx   threads=2 %.3fx\n", pairs("managed", "plain", 1), pairs("managed", "plain", 2)
    printf "backend / plain-TorchSharp: threads=1 %.3f    threads=2 %.3f\n", pairs("backend", "plain", 1), pairs("backend", "plain", 2)
  }' "$results"
