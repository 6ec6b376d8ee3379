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
out=${1:-$root/artifacts/gpu/grid-bench.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/grid-bench
mkdir -p "$stage" "$(dirname "$out")"

# A separate copy of the sources, so the host flavour's restore and build never touch the
# checkout's obj/ and bin/ folders (which hold the bundled-libtorch flavour).
src=$work/src
mkdir -p "$src"
(cd "$root" && tar --exclude=./artifacts --exclude=.git --exclude=bin --exclude=obj --exclude=.grid-state --exclude=.grid-local -cf - .) | tar -xf - -C "$src"

# One folder for both: they share every assembly but their own, and the carry limit is 64 MiB.
for project in src/Silo tools/Grid.Bench; do
  echo "pack-bench: publishing $project (host libtorch) ..." >&2
  dotnet publish "$src/$project" -c Release -r linux-x64 --self-contained false -p:GridLibTorch=host \
    -p:DebugType=none -o "$stage/bench" -nologo -v quiet
done
if ls "$stage/bench"/libtorch_cpu.so >/dev/null 2>&1; then
  echo "pack-bench: bench/ still bundles libtorch_cpu.so; the host flavour did not apply" >&2; exit 1
fi
for file in grid.dll grid.runtimeconfig.json grid-bench.dll grid-bench.runtimeconfig.json; do
  [ -f "$stage/bench/$file" ] || { echo "pack-bench: bench/$file is missing" >&2; exit 1; }
done

echo "pack-bench: copying the .NET runtime ..." >&2
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
aspnet=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/shared/Microsoft.AspNetCore.App"
cp "$dotnet_root/dotnet" "$stage/dotnet/"
cp -r "$dotnet_root/host" "$stage/dotnet/"
cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
cp -r "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet" "$stage/dotnet/shared/Microsoft.AspNetCore.App/"
rm -f "$stage/dotnet/shared/Microsoft.NETCore.App/$runtime"/{libmscordaccore.so,libmscordbi.so,createdump}
git -C "$root" rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || echo unknown > "$stage/COMMIT"

echo "pack-bench: compressing ..." >&2
tar -C "$work" -cf - grid-bench | xz -T0 -9 > "$out"
size=$(stat -c %s "$out")
echo "pack-bench: $out ($((size / 1024 / 1024)) MiB)"
if [ "$size" -gt $((64 * 1024 * 1024)) ]; then
  echo "pack-bench: larger than the device tool's 64 MiB carry limit" >&2
  exit 1
fi
