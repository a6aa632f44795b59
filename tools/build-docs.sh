#!/usr/bin/env bash
# Builds the documentation site with docfx (the tool pinned in .config/dotnet-tools.json) into docs/_site/: the API
# reference from the XML docs of the packages (C# projects read from source; the F# helpers from their built assembly)
# and the repository's README walkthroughs as articles. Any docfx warning, such as a broken cross-reference or link,
# fails the build (--warningsAsErrors). Nothing it writes is committed (docs/_site, docs/api, docs/fsharp-api and
# docs/articles are git-ignored).
# Usage: tools/build-docs.sh [--serve]            (about two minutes on two cores; --serve then serves the site)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

dotnet tool restore >/dev/null
# The F# API pages come from the assembly and its XML docs; building it builds the C# packages too.
dotnet build src/Scripts/Pipelines.Scripts.fsproj -c Release -warnaserror --verbosity quiet

# The articles: every README walkthrough with its path kept, so that links between them resolve.
rm -rf docs/articles docs/api docs/fsharp-api docs/_site
while IFS= read -r file; do
  mkdir -p "docs/articles/$(dirname "$file")"
  cp "$file" "docs/articles/$file"
done < <(find README.md src bench samples docs/results \
  \( -path '*/bin' -o -path '*/obj' \) -prune -o \
  \( -name 'README.md' -o -path 'docs/results/*.md' -o -path 'docs/results/*.svg' -o -path 'docs/results/*.png' \) -type f -print)

dotnet docfx docs/docfx.json --warningsAsErrors "$@"
echo "Site: docs/_site/index.html"
