#!/usr/bin/env bash
# The added latency of each digits defense through the gateway (p50), as docs/defenses.md reports it.
# Starts its own local stack (Release build, loopback only), publishes the digits model five times with a different
# `defenses` policy each (none, ood, squeeze, extraction, all) so that "latest" serves the variant under test, runs
# `ssctl bench` against each in turn for ROUNDS rounds, stops the stack and prints one table.
# Usage: tools/bench/defense-latency.sh [ROUNDS (default 2)] [REQUESTS per run (default 1500)]
# Needs: `dotnet build ServerlessServe.sln -c Release` first; the default ports (7071-7074, 10000-10002) free.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-2}
requests=${2:-1500}
ssctl="dotnet tools/ServerlessServe.Cli/bin/Release/net10.0/ssctl.dll"
state=$(mktemp -d)
log="$state/up.log"
results="$state/results.txt"
# The bench caller replays one digit thousands of times: raise the extraction volume limit so it is not blocked.
export ServerlessServe__Extraction__VolumeLimit=1000000
$ssctl up -c Release --no-build --skip-resnet --state "$state" > "$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null || true; wait $up 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do grep -q "first request\|Could not\|in use" "$log" && break; sleep 1; done
grep -q "first request" "$log" || { cat "$log" >&2; exit 1; }
$ssctl model samples "$state/variants" > /dev/null
version=2
for round in $(seq 1 "$rounds"); do
  for variant in none ood squeeze extraction all; do
    dir="$state/v/$variant-$round"; mkdir -p "$dir"; cp "$state/variants/digits/1/"* "$dir/"
    python3 - "$dir/policy.json" "$variant" <<'PY'
import json, sys
path, variant = sys.argv[1], sys.argv[2]
policy = json.load(open(path))
defenses = policy.get("defenses", {})
keep = {"none": [], "ood": ["ood"], "squeeze": ["squeeze"], "extraction": ["extraction"], "all": list(defenses)}[variant]
kept = {k: defenses[k] for k in keep if k in defenses}
if kept:
    policy["defenses"] = kept
else:
    policy.pop("defenses", None)
json.dump(policy, open(path, "w"))
PY
    if [ "$variant" != ood ] && [ "$variant" != all ]; then rm -f "$dir/profile.json"; fi
    $ssctl model publish "$dir" --name digits --version "$version" --state "$state" > /dev/null
    sleep 3
    p50=$($ssctl bench --state "$state" --model digits --requests "$requests" --concurrency 1 | grep -o 'p50=[0-9.]*' | cut -d= -f2)
    echo "$variant $round $p50" >> "$results"
    version=$((version + 1))
  done
done
python3 - "$results" "$rounds" <<'PY'
import sys, statistics
rows = [line.split() for line in open(sys.argv[1])]
rounds = int(sys.argv[2])
by = {}
for variant, _, p50 in rows:
    by.setdefault(variant, []).append(float(p50))
none = statistics.mean(by["none"])
print("| defenses | " + " | ".join(f"p50 round {r + 1}" for r in range(rounds)) + " | mean | vs none |")
print("|---|" + "---:|" * (rounds + 2))
for variant in ["none", "ood", "squeeze", "extraction", "all"]:
    values = by[variant]
    mean = statistics.mean(values)
    delta = "" if variant == "none" else f"{mean - none:+.2f} ms"
    print(f"| {variant} | " + " | ".join(f"{v:.2f} ms" for v in values) + f" | {mean:.2f} ms | {delta} |")
PY
