#!/usr/bin/env bash
# Runs the GPU suite on a GPU machine from scripts/gpu/pack.sh's archive, once
# scripts/gpu/receive.sh has unpacked it, inside a copy of the repository (the models and test
# models come from the checkout).
# Usage: scripts/gpu/run-tests.sh [xunit runner args...]
# Environment:
#   GRID_GPU_STORE      where receive.sh unpacked the archive (default artifacts/gpu/store in the checkout)
#   GRID_LIBTORCH_PATH  the CUDA libtorch lib directory (default: the GPU machine's PyTorch install,
#                       /opt/torch/.venv/lib/python3.12/site-packages/torch/lib); ONNX Runtime's CUDA
#                       provider takes the CUDA and cuDNN libraries beside it (site-packages/nvidia)
#   OUT                 when set, the results and logs are copied there
# The suite skips only on a machine without an NVIDIA GPU; with one, every test must pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
store=${GRID_GPU_STORE:-$root/artifacts/gpu/store}
base=$store/grid-gpu
[ -x "$base/tests/Grid.Gpu.Tests" ] || { echo "run-tests: nothing unpacked at $base; carry every part of scripts/gpu/pack.sh and run scripts/gpu/receive.sh first" >&2; exit 1; }
dest=$root/artifacts/gpu
mkdir -p "$dest"
export DOTNET_ROOT=$base/dotnet
export PATH=$base/dotnet:$base/redis:$PATH
export GRID_DLL=$base/grid/grid.dll
export GRID_LIBTORCH_PATH=${GRID_LIBTORCH_PATH:-/opt/torch/.venv/lib/python3.12/site-packages/torch/lib}
export FASHION_MNIST_DIR=$base/fashion-mnist
# compose/grid-local.sh (the cluster test) polls the gateway with curl; a machine without curl
# gets a stand-in for the one form it uses (curl -sf [-H HEADER] URL), in Python.
if ! command -v curl >/dev/null; then
  python=$(command -v python3 || echo /opt/torch/.venv/bin/python3)
  mkdir -p "$base/shim"
  cat > "$base/shim/curl" <<SHIM
#!$python
import sys, urllib.request
args, headers, url = sys.argv[1:], {}, None
while args:
    a = args.pop(0)
    if a == "-H":
        k, _, v = args.pop(0).partition(":")
        headers[k.strip()] = v.strip()
    elif not a.startswith("-"):
        url = a
try:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        sys.stdout.write(r.read().decode())
except Exception:
    sys.exit(22)
SHIM
  chmod +x "$base/shim/curl"
  export PATH=$base/shim:$PATH
fi
echo "GPU suite from commit $(cat "$base/COMMIT"); libtorch: $GRID_LIBTORCH_PATH"
cd "$root"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
status=0
"$base/tests/Grid.Gpu.Tests" -reporter verbose -xml "$dest/gpu-tests.xml" "$@" 2>&1 | tee "$dest/gpu-tests.log" || status=$?
if [ -n "${OUT:-}" ]; then
  cp "$dest/gpu-tests.log" "$dest/gpu-tests.xml" "$OUT/" 2>/dev/null || true
fi
exit "$status"
