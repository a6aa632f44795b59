#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of every packable C# project from its code, with
# Microsoft.CodeAnalysis.PublicApiAnalyzers' own diagnostics:
#   1. removes the lines of API that is listed and gone (RS0017: a build reports each with its file and line);
#   2. adds what is public and unlisted, and fixes nullable annotations (RS0016, RS0036, RS0037: the analyzer's code
#      fixes, applied by `dotnet format analyzers`).
#   3. rewrites src/Scripts/PublicAPI.fsi, the public signatures of the F# package, which the analyzer cannot read.
# PublicAPI.Shipped.txt is never touched: a shipped API that is gone is reported, for a person to decide.
# Run it after a merge that adds, changes or removes public API, read the diff of the Unshipped files, then build.
# Usage: tools/update-public-api.sh            (about three minutes on two idle cores)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

projects=(
  src/Components/Pipelines.Components.csproj
  src/Components/TorchSharp/Pipelines.Components.TorchSharp.csproj
  src/Estimators/Pipelines.Estimators.csproj
  src/Experiments/Pipelines.Experiments.csproj
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for project in "${projects[@]}"; do
  echo "== $project"
  dotnet restore "$project" --verbosity quiet
  directory=$(dirname "$project")

  # 1. Stale lines: "<dir>/PublicAPI.Unshipped.txt(LINE,1): warning RS0017: ...", deleted from the bottom up.
  dotnet build "$project" -c Release --no-restore -p:TreatWarningsAsErrors=false -p:MSBuildTreatWarningsAsErrors=false \
    -consoleLoggerParameters:NoSummary >"$log" 2>&1 || true
  stale=$(grep -oE "[^ ]*/$directory/PublicAPI\.Unshipped\.txt\(([0-9]+),[0-9]+\): (warning|error) RS0017" "$log" \
    | sed -E 's/.*\(([0-9]+),.*/\1/' | sort -un | sort -rn || true)
  for line in $stale; do sed -i "${line}d" "$directory/PublicAPI.Unshipped.txt"; done
  [ -n "$stale" ] && echo "   removed $(echo "$stale" | wc -l) stale line(s)"
  if grep -qE "PublicAPI\.Shipped\.txt\([0-9]+,[0-9]+\): (warning|error) RS0017" "$log"; then
    echo "   shipped API is gone (a breaking change; PublicAPI.Shipped.txt left as it is):" >&2
    grep -oE "RS0017: Symbol '[^']*'" "$log" | sort -u >&2
    status=1
  fi

  # 2. New and re-annotated API.
  dotnet format analyzers "$project" --no-restore --severity info --diagnostics RS0016 RS0036 RS0037 >/dev/null
done
# 3. The F# package (src/Scripts), which the analyzer cannot read: its compiler-written signatures, public part only,
#    into src/Scripts/PublicAPI.fsi (tests/Packaging/ScriptsPublicApiTests.cs holds them equal).
echo "== src/Scripts/Pipelines.Scripts.fsproj"
PIPELINES_UPDATE_PUBLIC_API=1 dotnet test tests/Packaging/Pipelines.Packaging.Tests.csproj -c Release \
  --filter "FullyQualifiedName~ScriptsPublicApiTests" --verbosity quiet >"$log" 2>&1 || { cat "$log" >&2; status=1; }

git --no-pager diff --stat -- '*PublicAPI.Unshipped.txt' src/Scripts/PublicAPI.fsi || true
echo "Now build and test: dotnet build Pipelines.sln -c Release -warnaserror && dotnet test Pipelines.sln -c Release"
exit "$status"
