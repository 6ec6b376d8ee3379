#!/usr/bin/env bash
# Runs grid-bench on a GPU machine from scripts/gpu/pack.sh's archive, once scripts/gpu/receive.sh
# has unpacked it, inside a copy of the repository (the models come from the checkout).
# Usage: scripts/gpu/run-bench.sh [grid-bench args...]
#   Without args: ONNX Runtime and libtorch, each on the CPU and the GPU, raw and through grid serve
#   with and without batching, over gRPC, fashion and convnet, 2 s points and no open loop (so one
#   run fits a 10-minute call).
# Environment:
#   GRID_GPU_STORE      where receive.sh unpacked the archive (default artifacts/gpu/store in the checkout)
#   GRID_LIBTORCH_PATH  the CUDA libtorch lib directory (default: the GPU machine's PyTorch install,
#                       /opt/torch/.venv/lib/python3.12/site-packages/torch/lib); ONNX Runtime's CUDA
#                       provider takes the CUDA and cuDNN libraries beside it (site-packages/nvidia)
#   OUT                 when set, results.json, results.md, throughput.png and the progress log are
#                       written there
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
store=${GRID_GPU_STORE:-$root/artifacts/gpu/store}
base=$store/grid-gpu
[ -f "$base/grid/grid-bench.dll" ] || { echo "run-bench: nothing unpacked at $base; carry every part of scripts/gpu/pack.sh and run scripts/gpu/receive.sh first" >&2; exit 1; }
dest=$root/artifacts/gpu
mkdir -p "$dest"
export DOTNET_ROOT=$base/dotnet
export PATH=$base/dotnet:$PATH
export GRID_LIBTORCH_PATH=${GRID_LIBTORCH_PATH:-/opt/torch/.venv/lib/python3.12/site-packages/torch/lib}
results=${OUT:-$dest/bench-results}
mkdir -p "$results"
if [ $# -eq 0 ]; then
  set -- --models fashion,convnet --configs onnx,torch,grid,grid-batching \
    --engines onnxruntime_onnx,pytorch_libtorch --devices cpu,gpu --protocols grpc \
    --batch_sizes 1,8,32,64,256 --concurrency 1,64 --duration 2 --warmup 1 --rate 0
fi
echo "grid-bench from commit $(cat "$base/COMMIT"); libtorch: $GRID_LIBTORCH_PATH" | tee "$results/bench.log"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$results/bench.log" || true
nproc | sed 's/^/cores: /' | tee -a "$results/bench.log"
cd "$root"
status=0
dotnet "$base/grid/grid-bench.dll" --libtorch_path "$GRID_LIBTORCH_PATH" --out "$results" "$@" 2>&1 \
  | tee -a "$results/bench.log" || status=$?
exit "$status"
