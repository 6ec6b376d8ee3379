#!/usr/bin/env bash
# Runs grid-bench on a GPU machine from a pack made by scripts/gpu/pack-bench.sh, inside a copy of
# the repository (the models come from the checkout).
# Usage: scripts/gpu/run-bench.sh [PACK.tar.xz] [grid-bench args...]
#   PACK defaults to artifacts/gpu/grid-bench.tar.xz. Without args: ONNX Runtime on the CPU,
#   libtorch on the CPU and the GPU, raw and through grid serve with and without batching, over
#   gRPC, with 3 s points and no open loop (so one run fits a 10-minute device call).
# Environment:
#   GRID_LIBTORCH_PATH  the CUDA libtorch lib directory (default: the device tool's machine,
#                       /opt/torch/.venv/lib/python3.12/site-packages/torch/lib)
#   OUT                 when set (the device tool sets it), results.json, results.md, throughput.png
#                       and the progress log are written there
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack=${1:-$root/artifacts/gpu/grid-bench.tar.xz}
shift || true
dest=$root/artifacts/gpu
mkdir -p "$dest"
rm -rf "$dest/grid-bench"
xz -dc "$pack" | tar -xf - -C "$dest"
base=$dest/grid-bench
export DOTNET_ROOT=$base/dotnet
export PATH=$base/dotnet:$PATH
export GRID_LIBTORCH_PATH=${GRID_LIBTORCH_PATH:-/opt/torch/.venv/lib/python3.12/site-packages/torch/lib}
results=${OUT:-$dest/bench-results}
mkdir -p "$results"
if [ $# -eq 0 ]; then
  set -- --models fashion,convnet --configs onnx,torch,grid,grid-batching \
    --engines onnxruntime_onnx,pytorch_libtorch --devices cpu,gpu --protocols grpc --duration 3 --rate 0
fi
echo "grid-bench from commit $(cat "$base/COMMIT"); libtorch: $GRID_LIBTORCH_PATH" | tee "$results/bench.log"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$results/bench.log" || true
nproc | sed 's/^/cores: /' | tee -a "$results/bench.log"
cd "$root"
status=0
dotnet "$base/bench/grid-bench.dll" --libtorch_path "$GRID_LIBTORCH_PATH" --out "$results" "$@" 2>&1 \
  | tee -a "$results/bench.log" || status=$?
exit "$status"
