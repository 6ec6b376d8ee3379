#!/usr/bin/env bash
# Packs everything a GPU run needs for a GPU machine that has a CUDA PyTorch install but no .NET
# SDK, Redis or network: one tar.xz, split into parts small enough for a transfer limit, holding
#   dotnet/        the .NET runtime this machine runs (the host, NETCore and AspNetCore shared frameworks)
#   grid/          grid and grid-bench published into one folder with -p:GridLibTorch=host (no bundled
#                  libtorch: libtorch comes from the host's PyTorch install through --libtorch_path)
#                  and -p:GridOnnxRuntime=cuda (ONNX Runtime with its CUDA provider, whose CUDA and
#                  cuDNN libraries also come from that install); grid-bench finds grid.dll beside itself
#   tests/         the GPU suite (tests/Grid.Gpu.Tests, an xunit v3 executable)
#   redis/         Debian's redis-server and the libraries it links beyond glibc, for the cluster test
#   fashion-mnist/ the Fashion-MNIST test images
# ONNX Runtime's CUDA provider library alone is 284 MB (about 170 MB compressed), so the archive is
# split into parts of PART_MIB (default 54) MiB: artifacts/gpu/parts/grid-gpu.tar.xz.000, .001, …
# with grid-gpu.manifest (part count, sizes, sha256 of the whole archive).
# The models come from the repository itself: the parts are reassembled and unpacked inside a
# checkout (scripts/gpu/receive.sh, then run-tests.sh and run-bench.sh; docs/gpu.md).
# Usage: scripts/gpu/pack.sh [OUT_DIR]   (default artifacts/gpu/parts)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack_name=pack
source "$root/scripts/gpu/pack-common.sh"
out=${1:-$root/artifacts/gpu/parts}
part_mib=${PART_MIB:-54}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/grid-gpu
mkdir -p "$stage"

src=$work/src
gpu_copy_sources "$src"

# One folder for grid and grid-bench: they share every assembly but their own.
for project in src/Silo tools/Grid.Bench; do
  echo "pack: publishing $project (host libtorch, ONNX Runtime with CUDA) ..." >&2
  dotnet publish "$src/$project" -c Release -r linux-x64 --self-contained false -p:GridLibTorch=host -p:GridOnnxRuntime=cuda \
    -p:DebugType=none -o "$stage/grid" -nologo -v quiet
done
gpu_check_host_flavour "$stage/grid"
for file in grid.dll grid-bench.dll libonnxruntime.so libonnxruntime_providers_shared.so libonnxruntime_providers_cuda.so; do
  [ -f "$stage/grid/$file" ] || { echo "pack: grid/$file is missing (did the GridOnnxRuntime=cuda flavour apply?)" >&2; exit 1; }
done
# TensorRT is not on the GPU machines, and Grid does not use its provider.
rm -f "$stage/grid/libonnxruntime_providers_tensorrt.so"

echo "pack: building the GPU suite ..." >&2
dotnet publish "$src/tests/Grid.Gpu.Tests" -c Release -r linux-x64 --self-contained false \
  -p:DebugType=none -o "$stage/tests" -nologo -v quiet
# The runner is the executable itself; Microsoft.NET.Test.Sdk's coverage and VSTest host
# payloads are only for dotnet test.
rm -rf "$stage/tests/CodeCoverage" "$stage/tests"/{x86,x64,arm64,alpine,ubuntu,macos} "$stage/tests"/testhost* "$stage/tests"/Microsoft.TestPlatform.* "$stage/tests"/Microsoft.VisualStudio.* 2>/dev/null || true

gpu_copy_runtime "$stage"
gpu_copy_redis "$stage/redis"

mkdir -p "$stage/fashion-mnist"
cp /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz "$stage/fashion-mnist/"

gpu_split_archive "$work" grid-gpu "$out" "$part_mib"
