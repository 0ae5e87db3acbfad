#!/usr/bin/env bash
# The plugin author's loop (issue 18), timed: `dotnet new lws-plugin` -> first 101 on a server started with no
# configuration, and handler edit -> new reply live, with a warm NuGet cache; the server's share (from the newest file
# in the plugin's folder to the 101 / the new reply) separated from dotnet's.
# Usage: bench/AuthorLoop/run.sh [rounds=3] [edits per round=2] [--no-compiler-server]
# Like the README's block it uses your dotnet settings: plugin-sdk/pack-local-feed.sh installs the template into your
# template list, and the builds use your NuGet cache (the warm cache measured; an untimed first round fills it).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release bench/AuthorLoop -v q -nologo >/dev/null
plugin-sdk/pack-local-feed.sh >/dev/null
echo "commit: $(git rev-parse --short HEAD) ($(git log -1 --format=%cd --date=iso-strict))"
echo "load average before: $(cat /proc/loadavg)"
dotnet bench/AuthorLoop/bin/Release/net10.0/AuthorLoop.dll "$@"
