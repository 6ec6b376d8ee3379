#!/usr/bin/env bash
# Packs what the GPU suite needs onto a GPU machine that has a CUDA PyTorch install but no .NET
# SDK, Redis or internet (the `device` tool's machines): one tar.xz under 64 MiB holding
#   dotnet/        the .NET runtime this machine runs (the host, NETCore and AspNetCore shared frameworks)
#   grid/          grid published with -p:GridLibTorch=host: no bundled libtorch, so it runs on the
#                  host's CUDA libtorch through --libtorch_path / GRID_LIBTORCH_PATH
#   tests/         the GPU suite (tests/Grid.Gpu.Tests, an xunit v3 executable)
#   redis/         Debian's redis-server and the libraries it links beyond glibc, for the cluster test
#   fashion-mnist/ the Fashion-MNIST test images
# The models come from the repository itself: unpack inside a checkout (the `device` tool runs
# in a copy of the working tree) and scripts/gpu/run-tests.sh finds them.
# Usage: scripts/gpu/pack.sh [OUT.tar.xz]   (default artifacts/gpu/grid-gpu.tar.xz)
# Then, through the device tool: carry that file and run scripts/gpu/run-tests.sh (docs/gpu.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pack_name=pack
source "$root/scripts/gpu/pack-common.sh"
out=${1:-$root/artifacts/gpu/grid-gpu.tar.xz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/grid-gpu
mkdir -p "$stage" "$(dirname "$out")"

src=$work/src
gpu_copy_sources "$src"

echo "pack: publishing grid (host libtorch) ..." >&2
dotnet publish "$src/src/Silo" -c Release -r linux-x64 --self-contained false -p:GridLibTorch=host \
  -p:DebugType=none -o "$stage/grid" -nologo -v quiet
gpu_check_host_flavour "$stage/grid"

echo "pack: building the GPU suite ..." >&2
dotnet publish "$src/tests/Grid.Gpu.Tests" -c Release -r linux-x64 --self-contained false \
  -p:DebugType=none -o "$stage/tests" -nologo -v quiet

# The runner is the executable itself; Microsoft.NET.Test.Sdk's coverage and VSTest host
# payloads are only for dotnet test.
rm -rf "$stage/tests/CodeCoverage" "$stage/tests"/{x86,x64,arm64,alpine,ubuntu,macos} "$stage/tests"/testhost* "$stage/tests"/Microsoft.TestPlatform.* "$stage/tests"/Microsoft.VisualStudio.* 2>/dev/null || true

gpu_copy_runtime "$stage"

echo "pack: copying redis-server ..." >&2
redis=$(readlink -f "$(command -v redis-server)")
mkdir -p "$stage/redis/lib"
cp "$redis" "$stage/redis/redis-server.bin"
# Everything it links except glibc's own libraries and the C++ runtime, which every host has.
ldd "$redis" | awk '/=> \// { print $3 }' | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) ;;
    *) cp -L "$lib" "$stage/redis/lib/" ;;
  esac
done
cat > "$stage/redis/redis-server" <<'WRAP'
#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/redis-server.bin" "$@"
WRAP
chmod +x "$stage/redis/redis-server"

mkdir -p "$stage/fashion-mnist"
cp /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz "$stage/fashion-mnist/"

gpu_compress "$work" grid-gpu "$out"
