#!/usr/bin/env bash
# Carries tools/bench/gpu-check.sh to a GPU machine that has no .NET SDK, no NuGet feed and no network, and takes at most
# 64 MiB per transfer (the device tool of this workplace). Everything the check runs is built here and split into parts
# that each fit one transfer; the machine unpacks them one by one and then runs gpu-check.sh with BUILD=0.
#
#   tools/bench/gpu-bundle.sh pack DIR      here, with the SDK: builds the Release apps and ssctl with OnnxRuntimeFlavor=Gpu
#                                           and writes DIR/p1 .. DIR/p4 (each under 60 MB)
#   tools/bench/gpu-bundle.sh unpack PART   there: unpacks one part into $GPU_ROOT (default /tmp/ss-gpu); any order
#   tools/bench/gpu-bundle.sh install       there, after the last part: puts the builds where gpu-check.sh looks, and
#                                           prints the environment to source (dotnet, node, CUDA libraries, ResNet18)
#
# The parts:
#   p1  ONNX Runtime's CUDA provider, with every cubin that is not for compute capability 9.0 zeroed (the H100 and H200
#       are 9.0; the headers stay, so the driver still parses the fat binary and picks the 9.0 entry: 284 MB of which
#       142 MB are other architectures' code), and the Azurite files the local stack loads (traced, not the whole
#       360 MB node_modules)
#   p2  the .NET runtime (not the SDK), the Release builds of ssctl and the three apps for linux-x64, libonnxruntime.so
#   p3  ResNet18.onnx from Microsoft.ML.DnnImageFeaturizer.ResNet18 (the pinned file: ssctl checks its SHA-256)
#   p4  node, for Azurite (only where the machine has none: `command -v node` there)
# The CUDA 13 and cuDNN 9 libraries ONNX Runtime loads are not carried: the machine's own are found by name.
# KEEP_ARCH (default 90, the H100 and H200) names the compute capabilities p1 keeps, comma-separated: the bundle runs on
# those devices only. The GPU inference image is built from the whole package and keeps every architecture (the T4 of
# the default serverless profile is 7.5, the A100 8.0).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=${GPU_ROOT:-/tmp/ss-gpu}
apps="tools/ServerlessServe.Cli functions/ServerlessServe.Gateway functions/ServerlessServe.Inference functions/ServerlessServe.Admin"

# PARTS="p2 p3" packs only those parts again (default: all four).
want() { [[ " ${PARTS:-p1 p2 p3 p4} " == *" $1 "* ]]; }

pack() {
  local dir=$1 stage
  stage=$(mktemp -d)
  mkdir -p "$dir"/p1 "$dir"/p2 "$dir"/p3 "$dir"/p4
  echo "== building (OnnxRuntimeFlavor=Gpu)"
  for app in $apps; do
    dotnet build "$app" -c Release -p:OnnxRuntimeFlavor=Gpu -v q -nologo > /dev/null
  done
  local native=functions/ServerlessServe.Inference/bin/Release/net10.0/runtimes/linux-x64/native
  if want p1; then
  echo "== p1: the CUDA provider for compute capability 9.0, Azurite"
  python3 tools/bench/fatbin-keep.py "$native/libonnxruntime_providers_cuda.so" "$stage/libonnxruntime_providers_cuda.so" "${KEEP_ARCH:-90}"
  xz -T2 -9 -c "$stage/libonnxruntime_providers_cuda.so" > "$dir/p1/cuda-provider.xz"
  rm "$stage/libonnxruntime_providers_cuda.so"
  azurite_files "$stage/azurite.txt"
  tar -C tools/azurite -cf - -T "$stage/azurite.txt" | xz -T2 -9 > "$dir/p1/azurite.tar.xz"
  fi

  if want p2; then
  echo "== p2: the .NET runtime, the builds, libonnxruntime.so"
  local dotnet_root
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  mkdir -p "$stage/p2/dotnet/shared" "$stage/p2/bins"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$stage/p2/dotnet/"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$stage/p2/dotnet/shared/"
  for app in $apps; do
    mkdir -p "$stage/p2/bins/$app"
    # linux-x64 only; ONNX Runtime's native libraries travel once (p1, and libonnxruntime.so below).
    tar -C "$app/bin/Release" \
      --exclude='net10.0/runtimes/linux-arm*' --exclude='net10.0/runtimes/linux-musl*' --exclude='net10.0/runtimes/linux-loong*' \
      --exclude='net10.0/runtimes/linux-riscv*' --exclude='net10.0/runtimes/linux-x86' --exclude='net10.0/runtimes/osx*' \
      --exclude='net10.0/runtimes/win*' --exclude='net10.0/arm64' --exclude='net10.0/x86' --exclude='net10.0/x64' \
      --exclude='libonnxruntime.so' --exclude='libonnxruntime_providers_cuda.so' --exclude='libonnxruntime_providers_tensorrt.so' \
      -cf - net10.0 | tar -C "$stage/p2/bins/$app" -xf -
  done
  cp "$native/libonnxruntime.so" "$stage/p2/"
  python3 - "$stage/p2" <<'PY'
import hashlib, os, sys
# The four builds share most of their assemblies: hard links make the archive hold each once.
seen = {}
for base, _, files in os.walk(sys.argv[1]):
    for name in sorted(files):
        path = os.path.join(base, name)
        if os.path.islink(path):
            continue
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if digest in seen:
            os.unlink(path)
            os.link(seen[digest], path)
        else:
            seen[digest] = path
PY
  tar -C "$stage/p2" -cf - . | xz -T2 -9 > "$dir/p2/runtime.tar.xz"
  fi

  if want p3; then
  echo "== p3: ResNet18"
  local resnet
  resnet=${SERVERLESSSERVE_RESNET18_ONNX:-$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.dnnimagefeaturizer.resnet18" -name ResNet18.onnx | head -1)}
  xz -T2 -9 -c "$resnet" > "$dir/p3/resnet18.xz"
  fi

  if want p4; then
  echo "== p4: node"
  xz -T2 -9 -c "$(readlink -f "$(command -v node)")" > "$dir/p4/node.xz"
  fi
  rm -rf "$stage"
  du -b "$dir"/p*
}

# The files of tools/azurite that a local stack loads: every package.json (module resolution reads them) and the
# JavaScript traced while gpu-check.sh ran here (AZURITE_TRACE names that list; see azurite-trace.js).
azurite_files() {
  local list=$1 trace=${AZURITE_TRACE:?set AZURITE_TRACE to a list written by tools/bench/azurite-trace.js} prefix
  prefix="$(pwd)/tools/azurite/"
  (cd tools/azurite && find node_modules -name package.json && find node_modules/.bin -maxdepth 1 -name 'azurite*' \
    && sed -n "s|^$prefix||p" "$trace") | sort -u > "$list"
  [ "$(grep -c '\.js$' "$list")" -gt 100 ] || { echo "the trace $trace lists no Azurite modules under $prefix" >&2; return 1; }
}

unpack() {
  local part=$1
  mkdir -p "$root"
  [ -f "$part/cuda-provider.xz" ] && xz -T0 -dc "$part/cuda-provider.xz" > "$root/libonnxruntime_providers_cuda.so"
  [ -f "$part/azurite.tar.xz" ] && mkdir -p "$root/azurite" && xz -T0 -dc "$part/azurite.tar.xz" | tar -C "$root/azurite" -xf -
  [ -f "$part/runtime.tar.xz" ] && xz -T0 -dc "$part/runtime.tar.xz" | tar -C "$root" -xf -
  [ -f "$part/resnet18.xz" ] && xz -T0 -dc "$part/resnet18.xz" > "$root/ResNet18.onnx"
  [ -f "$part/node.xz" ] && mkdir -p "$root/node" && xz -T0 -dc "$part/node.xz" > "$root/node/node" && chmod +x "$root/node/node"
  du -sh "$root"
}

install() {
  local app native
  for app in $apps; do
    mkdir -p "$app/bin/Release"
    rm -rf "$app/bin/Release/net10.0"
    cp -al "$root/bins/$app/net10.0" "$app/bin/Release/net10.0" 2> /dev/null || cp -a "$root/bins/$app/net10.0" "$app/bin/Release/net10.0"
    native="$app/bin/Release/net10.0/runtimes/linux-x64/native"
    mkdir -p "$native"
    ln -sf "$root/libonnxruntime.so" "$native/libonnxruntime.so"
    ln -sf "$root/libonnxruntime_providers_cuda.so" "$native/libonnxruntime_providers_cuda.so"
  done
  rm -rf tools/azurite/node_modules
  cp -a "$root/azurite/node_modules" tools/azurite/node_modules
  # The CUDA libraries ONNX Runtime's CUDA provider loads, wherever this machine has them (a CUDA toolkit, or the
  # nvidia-* Python wheels beside PyTorch).
  local libs="" lib found
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcufft.so.12 libcudnn.so.9; do
    found=$(find /usr /opt /lib /lib64 -name "$lib" 2> /dev/null | head -1 || true)
    [ -n "$found" ] && libs="$libs:$(dirname "$found")"
    [ -n "$found" ] || echo "warning: $lib not found" >&2
  done
  local path_add="$root/dotnet"
  command -v node > /dev/null || path_add="$path_add:$root/node"
  cat > "$root/env.sh" <<EOF
export DOTNET_ROOT=$root/dotnet
export PATH=$path_add:\$PATH
export LD_LIBRARY_PATH=${libs#:}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}
export SERVERLESSSERVE_RESNET18_ONNX=$root/ResNet18.onnx
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
EOF
  cat "$root/env.sh"
}

case "${1:-}" in
  pack) pack "${2:?pack DIR}" ;;
  unpack) unpack "${2:?unpack PART}" ;;
  install) install ;;
  *) echo "usage: $0 pack DIR | unpack PART | install" >&2; exit 2 ;;
esac
