#!/usr/bin/env bash
# Soak (issue 7): churn + mirror fan-out + a never-reading member + bad input, all at once against our server (Release,
# started fresh on 127.0.0.1), for a bounded time; prints RSS, open descriptors, threads, CPU and per-workload counts
# and errors every --sample-seconds, then the settled state and a fresh-client check. Exit 1 on any unexpected outcome.
# Usage: bench/soak/run.sh [--soak-minutes 10] [--sample-seconds 30] [--soak-members 50] [--soak-senders 2]
#                          [--soak-rate 200] [--soak-churn 4]
# Writes the report to bench/soak/last-run.md as well as stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."

dotnet build -c Release host/LwsPlugins.Server -v q -nologo >/dev/null
dotnet build -c Release bench/LoadDriver -v q -nologo >/dev/null
ulimit -n 20000 2>/dev/null || true
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_gcServer=0 \
  dotnet bench/LoadDriver/bin/Release/net10.0/LoadDriver.dll \
  --ours host/LwsPlugins.Server/bin/Release/net10.0/lws-server \
  --scenarios soak --out bench/soak/last-run.md "$@"
