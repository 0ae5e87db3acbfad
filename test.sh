#!/usr/bin/env bash
# Builds everything and runs every test project: the README's test command, and what .ci/run calls.
# Installs what the tests need from Debian when it is missing (lws's own test client for the interop test, chromium
# for the browser tests, redis-server for the backplane tests: each fixture starts its own on a free loopback port).
# Ends with one line "N passed, N failed" summing all test projects, and fails when any test fails or none ran.
set -uo pipefail
cd "$(dirname "$0")"

missing=()
command -v libwebsockets-test-client >/dev/null 2>&1 || missing+=(libwebsockets-test-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing ${missing[*]} (apt)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"; } >/dev/null; then
    echo "test.sh: could not install ${missing[*]}; the interop, browser and backplane tests need them" >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
dotnet test LwsPlugins.sln 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# dotnet test prints one summary per test project: "Passed!  - Failed:     0, Passed:    33, Skipped: ..."
passed=0 failed=0 skipped=0 projects=0
while read -r f p s; do
  failed=$((failed + f)) passed=$((passed + p)) skipped=$((skipped + s)) projects=$((projects + 1))
done < <(sed -nE 's/.*(Passed|Failed)!  - Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \3 \4/p' "$log")

echo "test.sh: ${projects} test projects"
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && { [ "$projects" -eq 0 ] || [ "$passed" -eq 0 ]; }; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$status"
