#!/usr/bin/env bash
# The end-to-end cost of signed requests (RFC 9421) through the gateway, as docs/performance.md reports it.
# Starts its own local stack (Release build, loopback only), publishes credit-risk twice (as credit-risk-plain, and as
# credit-risk-signed with "signatures": {"required": true}), registers a request-signing key for the bench caller,
# runs `ssctl bench` against each in turn for ROUNDS rounds (the signed runs sign every request) and prints the p50s.
# Usage: tools/bench/signed-latency.sh [ROUNDS (default 3)] [REQUESTS per run (default 1500)]
# Needs: `dotnet build ServerlessServe.sln -c Release` first; the default ports (7071-7074, 10000-10002) free.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
requests=${2:-1500}
ssctl="dotnet tools/ServerlessServe.Cli/bin/Release/net10.0/ssctl.dll"
state=$(mktemp -d)
log="$state/up.log"
$ssctl up -c Release --no-build --skip-resnet --state "$state" > "$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null || true; wait $up 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do grep -q "first request\|Could not\|in use" "$log" && break; sleep 1; done
grep -q "first request" "$log" || { cat "$log" >&2; exit 1; }
$ssctl model samples "$state/variants" > /dev/null
for variant in plain signed; do
  dir="$state/v/$variant"; mkdir -p "$dir"; cp "$state/variants/credit-risk/1/"* "$dir/"
  if [ "$variant" = signed ]; then
    python3 -c 'import json,sys; p=sys.argv[1]; d=json.load(open(p)); d["signatures"]={"required": True}; json.dump(d, open(p, "w"))' "$dir/policy.json"
  fi
  $ssctl model publish "$dir" --name "credit-risk-$variant" --version 1 --state "$state" > /dev/null
done
$ssctl keys create-request-key --out "$state/bench.key.pem" > /dev/null
$ssctl keys register-request-key --subject bench --public-key "$state/bench.key.pub.pem" --key-id bench --state "$state" > /dev/null
sleep 6
for round in $(seq 1 "$rounds"); do
  echo "round $round plain:  $($ssctl bench --state "$state" --model credit-risk-plain --requests "$requests" --concurrency 1 | grep -o 'p50=[0-9.]*ms p90=[0-9.]*ms p95=[0-9.]*ms p99=[0-9.]*ms')"
  echo "round $round signed: $($ssctl bench --state "$state" --model credit-risk-signed --requests "$requests" --concurrency 1 --sign-key "$state/bench.key.pem" --key-id bench | grep -o 'p50=[0-9.]*ms p90=[0-9.]*ms p95=[0-9.]*ms p99=[0-9.]*ms')"
done
