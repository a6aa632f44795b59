#!/usr/bin/env bash
# Scaling sweep (issue 15): training tokens/s of the managed engine and of the plain TorchSharp loop over the width
# (128, 256, 512, 768 at context 128) and the context (64, 128, 256, 512 at width 256); 4 layers, 4 heads, vocabulary
# 2,048, batch 8, AdamW 3e-4. Every repeat runs each point on both peers back to back, the peer that goes first
# alternating, so both see the same load. Writes the raw runs, the median table and the figures under bench/results/.
#   bench/scaling.sh [repeats]      (default 3; STEPS=5 timed steps per run after 3 warm-up steps; THREADS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
steps="${STEPS:-5}"
threads="${THREADS:-1}"
out=bench/results
engine=bench/Pipelines.Benchmarks/bin/Release/net10.0/Pipelines.Benchmarks.dll
torchsharp=bench/Pipelines.Benchmarks.TorchSharp/bin/Release/net10.0/Pipelines.Benchmarks.TorchSharp.dll
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet build bench/Pipelines.Benchmarks -c Release -nologo -v quiet >/dev/null
dotnet build bench/Pipelines.Benchmarks.TorchSharp -c Release -nologo -v quiet >/dev/null
mkdir -p "$out"
raw="$out/scaling-raw.csv"
echo "sweep,peer,dim,ctx,repeat,tokens_per_s,step_ms,peak_rss_mb" > "$raw"

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
run() {
  local sweep=$1 peer=$2 dim=$3 ctx=$4 repeat=$5 line
  case $peer in
    managed) line=$(dotnet "$engine" train --steps "$steps" --threads "$threads" --dim "$dim" --ctx "$ctx") ;;
    plain-torchsharp) line=$(dotnet "$torchsharp" plain --steps "$steps" --threads "$threads" --dim "$dim" --ctx "$ctx") ;;
  esac
  echo "$line"
  echo "$sweep,$peer,$dim,$ctx,$repeat,$(echo "$line" | field tokens_per_s),$(echo "$line" | field step_ms),$(echo "$line" | field peak_rss_mb)" >> "$raw"
}

start=$(date -u '+%Y-%m-%d %H:%M UTC'); load_start=$(cut -d' ' -f1-3 /proc/loadavg)
isa=$(grep -o -m1 -w avx512f /proc/cpuinfo || grep -o -m1 -w avx2 /proc/cpuinfo || echo 'no avx2')
echo "== scaling sweep, $repeats repeat(s) of $steps steps, $threads thread(s); $start; load $load_start; $isa"
points=("width 128 128" "width 256 128" "width 512 128" "width 768 128" "context 256 64" "context 256 128" "context 256 256" "context 256 512")
for repeat in $(seq "$repeats"); do
  for point in "${points[@]}"; do
    set -- $point
    if (( repeat % 2 )); then order=(managed plain-torchsharp); else order=(plain-torchsharp managed); fi
    for peer in "${order[@]}"; do run "$1" "$peer" "$2" "$3" "$repeat"; done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== end $(date -u '+%H:%M UTC'); load $load_end"
dotnet "$engine" plot-scaling --csv "$raw" --out "$out" \
  --title "$threads thread(s), median of $repeats runs x $steps steps, $start, load ${load_start%% *} -> ${load_end%% *}, $isa"
column -s, -t < "$out/scaling.csv"
