#!/usr/bin/env bash
# Coverage-guided fuzzing with SharpFuzz and AFL++, for a bounded time.
#   tools/ServerlessServe.Fuzz/run.sh [SECONDS] [TARGET]      (default 300 s, target `request`)
# TARGET: `request`, the V2 request reader (RequestReaderTarget.cs); `headers`, what the gateway reads from a caller's
# headers before it knows the caller: signature, digest and bearer token (HeadersTarget.cs); `audit`, the stored
# documents the audit verifier reads (records, checkpoints, witness heads, inclusion proofs) and receipts (AuditTarget.cs);
# `artifact`, a model version's files: manifest, policy, ONNX model, input profile (ArtifactTarget.cs); `jobs`, a job
# submission's body split into items and each item read as the job reads it, against the same request sent to infer
# (JobItemsTarget.cs).
# Needs afl-fuzz (Debian: apt-get install afl++) and the SharpFuzz.CommandLine dotnet tool (`sharpfuzz`, 2.3.0).
# Findings land in artifacts/fuzz/out/default/crashes (out-TARGET/ for the others); copy each into corpus/TARGET/ so
# the replay test keeps it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-300}"
target="${2:-request}"
case "$target" in
  request) results=out ;;
  headers) results=out-headers ;;
  audit) results=out-audit ;;
  artifact) results=out-artifact ;;
  jobs) results=out-jobs ;;
  *) echo "run.sh: unknown target $target (request, headers, audit, artifact or jobs)" >&2; exit 2 ;;
esac
out="$root/artifacts/fuzz"
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz not found (apt-get install afl++)" >&2; exit 2; }
command -v sharpfuzz >/dev/null || export PATH="$PATH:$HOME/.dotnet/tools"
command -v sharpfuzz >/dev/null || dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0
# A fresh folder each run: publish leaves an assembly it did not rebuild as it was, instrumented by the run before,
# and sharpfuzz refuses an assembly twice.
rm -rf "$out/bin"
dotnet publish "$here/ServerlessServe.Fuzz.csproj" -c Release -o "$out/bin" -v q --nologo
# Instrument only the code under test: ServerlessServe.Core holds every target's code; the token screen's parse is the
# IdentityModel library's, instrumented too so that coverage can guide inputs through it.
sharpfuzz "$out/bin/ServerlessServe.Core.dll"
if [[ "$target" == headers ]]; then
  sharpfuzz "$out/bin/Microsoft.IdentityModel.JsonWebTokens.dll"
  sharpfuzz "$out/bin/Microsoft.IdentityModel.Tokens.dll"
fi
# The ONNX model's protobuf: the runtime's parser and the generated ONNX messages.
if [[ "$target" == artifact ]]; then
  sharpfuzz "$out/bin/Google.Protobuf.dll"
  sharpfuzz "$out/bin/OnnxSharp.dll"
fi
mkdir -p "$out/$results"
# AFL_SKIP_BIN_CHECK: the target is a .NET app host; the instrumentation is in the IL sharpfuzz rewrote, not in the binary.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_SKIP_BIN_CHECK=1
# -t: a case may take 10 s (the .NET start is outside the loop); -m none: the runtime reserves more than AFL's default.
timeout --preserve-status "$seconds" afl-fuzz -i "$here/corpus/$target" -o "$out/$results" -t 10000 -m none -- "$out/bin/ServerlessServe.Fuzz" "$target" || true
stats="$out/$results/default/fuzzer_stats"
if [[ -f "$stats" ]]; then
  grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|run_time)' "$stats"
fi
crashes=$(find "$out/$results/default/crashes" -type f ! -name README.txt 2>/dev/null | wc -l)
echo "crashes: $crashes"
[[ "$crashes" -eq 0 ]]
