#!/usr/bin/env bash
# Listener scale benchmark (issue 20): the real server binary, driven through its admin API.
# Usage: bench/ListenerScale/run.sh [cycles=1000] [ownPorts=200]
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release host/LwsPlugins.Server -v q -nologo >/dev/null
dotnet build -c Release bench/ListenerScale -v q -nologo >/dev/null
echo "load average before: $(cat /proc/loadavg)"
dotnet bench/ListenerScale/bin/Release/net10.0/ListenerScale.dll host/LwsPlugins.Server/bin/Release/net10.0/lws-server "$@"
# The design not taken, for comparison: a Kestrel server per listener from one shared service provider.
dotnet bench/ListenerScale/bin/Release/net10.0/ListenerScale.dll --kestrel-per-listener "${2:-200}"
echo "load average after: $(cat /proc/loadavg)"
