#!/usr/bin/env bash
# Load benchmark (issue 12): our server vs libwebsockets-test-server 4.1.6 on 127.0.0.1, same scenarios, one table.
# Usage: bench/load/run.sh [extra LoadDriver options, e.g. --fanout-seconds 4 --idle 2000,4000]
# Bounded: about 6-8 minutes with the defaults. Writes the report to bench/load/last-run.md as well as stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v libwebsockets-test-server >/dev/null || ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq libwebsockets-test-server wrk >/dev/null
fi

dotnet build -c Release host/LwsPlugins.Server -v q -nologo >/dev/null
dotnet build -c Release bench/LoadDriver -v q -nologo >/dev/null

# 19k idle connections need as many descriptors in the driver and in each server (hard limit here: 20,000).
ulimit -n 20000
echo "load average before: $(cat /proc/loadavg)" >&2
# The driver runs socket completions inline on the epoll threads (no thread-pool hop per receive), so it stays cheaper
# per message than the servers it measures; its own CPU is in every table.
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_gcServer=0 \
  dotnet bench/LoadDriver/bin/Release/net10.0/LoadDriver.dll \
  --ours host/LwsPlugins.Server/bin/Release/net10.0/lws-server \
  --out bench/load/last-run.md "$@"
