#!/usr/bin/env bash
# Issue 13's GPU check: ResNet18 on ONNX Runtime's CUDA execution provider, raw ONNX Runtime against the inference app
# (the service token path, no gateway), at 1 and 32 images per request, with and without dynamic batching, in one
# table. Nothing else in the project needs a GPU; run this where one is.
#
# What it does:
#   1. builds ssctl and the three apps in Release with ONNX Runtime's GPU flavour (OnnxRuntimeFlavor=Gpu: the package
#      Microsoft.ML.OnnxRuntime.Gpu.Linux in the inference app and in ssctl's raw target);
#   2. for batching off, then on: starts its own local stack (loopback only, a fresh state folder) with the inference
#      app on CUDA (ServerlessServe:Inference:ExecutionProvider=Cuda, no CPU fallback, so a missing GPU fails loudly)
#      and publishes ResNet18 as version 2 with a policy that admits 32 images per request;
#   3. runs `ssctl bench --matrix` (targets raw and inference, rows 1 and 32, concurrency 1 and 32), stops the stack;
#   4. prints the table from both runs' JSON.
#
# Usage: tools/bench/gpu-check.sh [REQUESTS per target and round (default 200)] [ROUNDS (default 3)]
# Environment:
#   PROVIDER=cpu          the same script on the CPU flavour: a dry run of the script where there is no GPU
#   CONCURRENCIES=1,32    the concurrencies measured
#   TARGETS=raw,inference the bench targets (add gateway for the full secure path; the table shows raw and inference)
#   ROWS=1,32             the images per request
#   BATCHINGS="false true" the stacks run (one of them: a probe; the table then shows what it can)
# Any ServerlessServe__* variable set for the script reaches the apps (a probe of one setting, for example
# ServerlessServe__Inference__ConcurrentBatches=1, or Logging__LogLevel__ServerlessServe.Onnx.DynamicBatcher=Debug
# passed with env for the batcher's line per batch).
#   PROBES="NAME:VAR=VALUE[,VAR=VALUE] ..."   after those stacks, one more stack per probe, batching on, with those
#                         settings for the apps, measuring the inference target only at PROBE_ROWS (default 1) images and
#                         PROBE_CONCURRENCY (default 32), PROBE_REQUESTS (default 100) requests in one round. PROBES=batching
#                         is the set prepared for the batched-CUDA question (docs/performance.md, "The GPU check, measured
#                         2026-12-04"): every batch at the policy's maximum (one input shape), one batch at a time, and
#                         batching off with each run on the request's own thread (CudaRunThreads=0, as before 2026-12-05).
#                         A probe's settings come after the stack's own, so they may turn batching off.
#                         Every batching stack logs the batcher's line per batch; the table summarises them (runs, rows,
#                         run and stacking ms).
#   OUT=DIR               where the JSON and the table go (default: a new temporary folder)
#   BUILD=0               use the Release builds already there (a machine without the SDK: tools/bench/gpu-bundle.sh)
# Needs: an NVIDIA driver (580 or newer) and the CUDA 13 and cuDNN 9 runtime libraries that ONNX Runtime 1.31 loads; the NuGet feed,
# or a package cache holding Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0; the default ports (7071-7074, 10000-10002)
# free. Afterwards, `dotnet build` without the property gives the CPU flavour back.
set -euo pipefail
cd "$(dirname "$0")/../.."
requests=${1:-200}
rounds=${2:-3}
provider=${PROVIDER:-cuda}
concurrencies=${CONCURRENCIES:-1,32}
targets=${TARGETS:-raw,inference}
rows=${ROWS:-1,32}
batchings=${BATCHINGS:-false true}
probes=${PROBES:-}
[ "$probes" = batching ] && probes="max-padding:ServerlessServe__Inference__BatchPadding=Maximum one-batch:ServerlessServe__Inference__ConcurrentBatches=1 request-threads:ServerlessServe__Inference__DynamicBatching=false,ServerlessServe__Inference__CudaRunThreads=0"
probe_rows=${PROBE_ROWS:-1}
probe_concurrency=${PROBE_CONCURRENCY:-32}
probe_requests=${PROBE_REQUESTS:-100}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
case "$provider" in
  cuda) flavor=Gpu; ep=Cuda ;;
  cpu) flavor=Cpu; ep=Cpu ;;
  *) echo "PROVIDER must be cuda or cpu" >&2; exit 2 ;;
esac

if [ "$provider" = cuda ]; then
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt" \
    || echo "warning: nvidia-smi not found; the inference app will fail to start if CUDA is missing" >&2
fi

if [ "${BUILD:-1}" != 0 ]; then
  echo "== building (OnnxRuntimeFlavor=$flavor)"
  dotnet build tools/ServerlessServe.Cli -c Release -p:OnnxRuntimeFlavor=$flavor -v q -nologo > "$out/build.log"
  for app in Gateway Inference Admin; do
    dotnet build "functions/ServerlessServe.$app" -c Release -p:OnnxRuntimeFlavor=$flavor -v q -nologo >> "$out/build.log"
  done
fi
ssctl="dotnet tools/ServerlessServe.Cli/bin/Release/net10.0/ssctl.dll"

up=""
stop_stack() {
  if [ -n "$up" ]; then
    # SIGTERM: ssctl stops its children as on Ctrl-C. (A background job of a script ignores SIGINT, so an INT sent here
    # did nothing, and each stack used to cost 30 s of waiting before its TERM.)
    kill -TERM "$up" 2> /dev/null || true
    for _ in $(seq 1 45); do kill -0 "$up" 2> /dev/null || break; sleep 1; done
    kill -KILL "$up" 2> /dev/null || true
    wait "$up" 2> /dev/null || true
    up=""
  fi
}
trap stop_stack EXIT

# One stack: NAME, batching (true/false), extra settings for the apps (VAR=VALUE, comma-separated, or empty), then the
# bench's own arguments. Writes $out/NAME.json, $out/bench-NAME.txt, and with batching on $out/batches-NAME.log (the
# batcher's line per batch).
run_stack() {
  local name=$1 batching=$2 extra=$3
  shift 3
  local state log
  state=$(mktemp -d)
  log="$out/up-$name.log"
  echo "== stack $name: dynamic batching $batching${extra:+, $extra} (state $state)"
  local settings=()
  [ -n "$extra" ] && IFS=, read -r -a settings <<< "$extra"
  # 32 images of 3x224x224 FP32 are 4.8 M elements, 19 MB in the binary encoding: above the default element cap, and
  # above the gateway's default 16 MiB body cap (the inference app derives its own from the element cap). The pool of
  # decoded tensor arrays keeps 32 MiB by default: one such request's array; at concurrency 32 the other 31 would be
  # fresh allocations, each page faulting in on a VM. 1 GiB keeps them all (POOLED_TENSOR_BYTES sets it).
  env ServerlessServe__Inference__ExecutionProvider=$ep \
      ServerlessServe__Inference__AllowCpuFallback=false \
      ServerlessServe__Inference__DynamicBatching=$batching \
      ServerlessServe__Protocol__MaxElementsPerRequest=5000000 \
      ServerlessServe__Protocol__MaxBodyBytes=41943040 \
      ServerlessServe__Protocol__PooledTensorBytes=${POOLED_TENSOR_BYTES:-1073741824} \
      Logging__LogLevel__ServerlessServe.Onnx.DynamicBatcher=Debug \
      "${settings[@]}" \
      $ssctl up -c Release --no-build --state "$state" > "$log" 2>&1 &
  up=$!
  for _ in $(seq 1 600); do grep -q "Press Ctrl-C\|Could not\|in use" "$log" && break; sleep 1; done
  grep -q "Press Ctrl-C" "$log" || { tail -40 "$log" >&2; exit 1; }

  # ResNet18 version 2: the published sample (batch dimension free, batching in its policy) admitting 32 images.
  $ssctl model samples "$state/variants" > /dev/null
  local dir="$state/resnet18-32/2"
  mkdir -p "$dir"
  cp "$state/variants/resnet18/1/"* "$dir/"
  python3 - "$dir/policy.json" <<'PY'
import json, sys
path = sys.argv[1]
policy = json.load(open(path))
policy["maxBatch"] = 32
policy["batching"] = {"maxBatchSize": 32, "maxQueueDelay": "PT0S"}
json.dump(policy, open(path, "w"), indent=2)
PY
  $ssctl model publish "$dir" --name resnet18 --version 2 --state "$state" > /dev/null
  sleep 5 # the inference app's catalog sees the new version

  $ssctl bench --state "$state" --matrix --models resnet18 --encodings binary --raw-provider "$provider" \
    --out "$out/$name.json" "$@" > "$out/bench-$name.txt"
  grep -q "Failed to\|CUDA" "$state/logs/inference.log" && grep "CUDA\|Failed to" "$state/logs/inference.log" | head -5 >&2 || true
  [ "$batching" = true ] && grep "Batch of model resnet18:" "$state/logs/inference.log" > "$out/batches-$name.log" || true
  stop_stack
}

for batching in $batchings; do
  run_stack "batching-$batching" "$batching" "" --targets "$targets" --rows "$rows" --concurrencies "$concurrencies" \
    --rounds "$rounds" --requests "$requests"
done
for probe in $probes; do
  run_stack "probe-${probe%%:*}" true "${probe#*:}" --targets inference --rows "$probe_rows" \
    --concurrencies "$probe_concurrency" --rounds 1 --requests "$probe_requests"
done

python3 - "$out" "$provider" <<'PY' | tee "$out/table.md"
import json, os, sys
out, provider = sys.argv[1], sys.argv[2]
runs = {b: json.load(open(os.path.join(out, f"batching-{b}.json")))["results"] if os.path.exists(os.path.join(out, f"batching-{b}.json")) else [] for b in ("false", "true")}
def cell(results, target, rows, c):
    for r in results:
        if r["target"] == target and r["rows"] == rows and r["concurrency"] == c:
            return r
    return None
print(f"ResNet18, binary, execution provider {provider}; p50 ms and images/s (requests/s x rows)")
print()
print("| rows | c | raw p50 | raw img/s | inference p50 | inference img/s | overhead vs raw (p50) | batching: p50 | batching: img/s | batching gain |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
keys = sorted({(r["rows"], r["concurrency"]) for b in runs.values() for r in b})
def ips(r):
    return r["throughputPerSecond"] * r["rows"]
def p50(r):
    return "-" if r is None else f"{r['p50Ms']:.2f}"
def img(r):
    return "-" if r is None else f"{ips(r):.0f}"
for rows, c in keys:
    raw = cell(runs["false"], "raw", rows, c) or cell(runs["true"], "raw", rows, c)
    off = cell(runs["false"], "inference", rows, c)
    on = cell(runs["true"], "inference", rows, c)
    overhead = f"{(off['p50Ms'] / raw['p50Ms'] - 1) * 100:+.1f} %" if raw and off and raw["p50Ms"] > 0 else "-"
    gain = f"{ips(on) / ips(off):.2f}x" if on and off else "-"
    print(f"| {rows} | {c} | {p50(raw)} | {img(raw)} | {p50(off)} | {img(off)} | {overhead} | {p50(on)} | {img(on)} | {gain} |")
failures = sum(r["failures"] for b in runs.values() for r in b)

# The batcher's line per batch (event 3115): "... {Requests} requests, {Rows} rows run as {RunRows}; oldest waited
# {W} ms, stacking {S} ms, run {R} ms, splitting {P} ms."
import re
line = re.compile(r"(\d+) requests, (\d+) rows run as (\d+); oldest waited ([\d.]+) ms, stacking ([\d.]+) ms, run ([\d.]+) ms")
def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else float("nan")
batch_logs = sorted(f for f in os.listdir(out) if f.startswith("batches-") and f.endswith(".log"))
if batch_logs:
    print()
    print("Batches (the batcher's line per batch; ms):")
    print()
    print("| stack | inference p50 | inference img/s | batches | rows per batch (p50) | run as (p50) | run p50 | run max | stacking p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in batch_logs:
        name = f[len("batches-"):-len(".log")]
        batches = [tuple(float(g) for g in m.groups()) for m in map(line.search, open(os.path.join(out, f))) if m]
        results = json.load(open(os.path.join(out, f"{name}.json")))["results"] if os.path.exists(os.path.join(out, f"{name}.json")) else []
        failures += sum(r["failures"] for r in results) if name.startswith("probe-") else 0
        shown = [r for r in results if r["target"] == "inference"]
        # The main batching stack measured several cells; its batches mix them, so its line shows the largest cell.
        r = max(shown, key=lambda r: (r["concurrency"], -r["rows"])) if shown else None
        label = name if r is None else f"{name} (rows {r['rows']}, c {r['concurrency']})"
        if not batches:
            print(f"| {label} | {p50(r)} | {img(r)} | 0 | - | - | - | - | - |")
            continue
        print(f"| {label} | {p50(r)} | {img(r)} | {len(batches)} | {median([b[1] for b in batches]):.0f} | {median([b[2] for b in batches]):.0f} "
              f"| {median([b[5] for b in batches]):.2f} | {max(b[5] for b in batches):.2f} | {median([b[4] for b in batches]):.2f} |")
print()
print(f"failures: {failures}")
PY
echo "results in $out"
