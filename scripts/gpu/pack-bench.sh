#!/usr/bin/env bash
# Packs grid-bench for a GPU machine that has a CUDA PyTorch install but no .NET SDK or internet
# (the `device` tool's machines), like scripts/gpu/pack.sh packs the GPU suite: one tar.xz under
# 64 MiB holding
#   dotnet/  the .NET runtime this machine runs (the host, NETCore and AspNetCore shared frameworks)
#   bench/   grid and grid-bench published into one folder with -p:GridLibTorch=host (no bundled
#            libtorch: raw torch and grid run on the host's libtorch through --libtorch_path);
#            grid-bench finds grid.dll beside itself, as in a build
# The models come from the checkout: unpack inside one (the `device` tool runs in a copy of the
# working tree) and scripts/gpu/run-bench.sh finds them.
# Usage: scripts/gpu/pack-bench.sh [OUT.tar.xz]   (default artifacts/gpu/grid-bench.tar.xz)
# Then, through the device tool: carry that file and run scripts/gpu/run-bench.sh (docs/benchmarks.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack_name=pack-bench
source "$root/scripts/gpu/pack-common.sh"
out=${1:-$root/artifacts/gpu/grid-bench.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/grid-bench
mkdir -p "$stage" "$(dirname "$out")"

src=$work/src
gpu_copy_sources "$src"

# One folder for both: they share every assembly but their own, and the carry limit is 64 MiB.
for project in src/Silo tools/Grid.Bench; do
  echo "pack-bench: publishing $project (host libtorch) ..." >&2
  dotnet publish "$src/$project" -c Release -r linux-x64 --self-contained false -p:GridLibTorch=host \
    -p:DebugType=none -o "$stage/bench" -nologo -v quiet
done
gpu_check_host_flavour "$stage/bench"
for file in grid.dll grid.runtimeconfig.json grid-bench.dll grid-bench.runtimeconfig.json; do
  [ -f "$stage/bench/$file" ] || { echo "pack-bench: bench/$file is missing" >&2; exit 1; }
done

gpu_copy_runtime "$stage"

gpu_compress "$work" grid-bench "$out"
