#!/usr/bin/env bash
# Runs the GPU suite on a GPU machine from a pack made by scripts/gpu/pack.sh, inside a copy of
# the repository (the models and test models come from the checkout).
# Usage: scripts/gpu/run-tests.sh [PACK.tar.xz] [xunit runner args...]
#   PACK defaults to artifacts/gpu/grid-gpu.tar.xz.
# Environment:
#   GRID_LIBTORCH_PATH  the CUDA libtorch lib directory (default: the device tool's machine,
#                       /opt/torch/.venv/lib/python3.12/site-packages/torch/lib)
#   OUT                 when set (the device tool sets it), the results and logs are copied there
# The suite skips only on a machine without an NVIDIA GPU; with one, every test must pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack=${1:-$root/artifacts/gpu/grid-gpu.tar.xz}
shift || true
dest=$root/artifacts/gpu
mkdir -p "$dest"
rm -rf "$dest/grid-gpu"
xz -dc "$pack" | tar -xf - -C "$dest"
base=$dest/grid-gpu
export DOTNET_ROOT=$base/dotnet
export PATH=$base/dotnet:$base/redis:$PATH
export GRID_DLL=$base/grid/grid.dll
export GRID_LIBTORCH_PATH=${GRID_LIBTORCH_PATH:-/opt/torch/.venv/lib/python3.12/site-packages/torch/lib}
export FASHION_MNIST_DIR=$base/fashion-mnist
echo "GPU suite from commit $(cat "$base/COMMIT"); libtorch: $GRID_LIBTORCH_PATH"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
status=0
"$base/tests/Grid.Gpu.Tests" -reporter verbose -xml "$dest/gpu-tests.xml" "$@" 2>&1 | tee "$dest/gpu-tests.log" || status=$?
if [ -n "${OUT:-}" ]; then
  cp "$dest/gpu-tests.log" "$dest/gpu-tests.xml" "$OUT/" 2>/dev/null || true
fi
exit "$status"
