#!/usr/bin/env bash
# Makes TorchSharp's libLibTorchSharp.so load on Debian 12 (libstdc++ up to GLIBCXX_3.4.30):
# its only newer import, std::ios_base_library_init()@GLIBCXX_3.4.32, is made a weak version
# requirement and supplied by a one-function shim placed beside it and added as a dependency.
# Usage: scripts/torchsharp-compat/apply.sh DIR...   (each DIR holds a libLibTorchSharp.so, e.g.
#        bin/Release/net10.0/runtimes/linux-x64/native of a project referencing TorchSharp-cpu)
# Needs gcc and patchelf. See docs/notes/torchsharp-on-debian-12.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# Without the tools the build still succeeds: ONNX models are unaffected, and the libtorch
# engine then reports the load failure when a model.pt is served.
for tool in gcc patchelf python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "warning: torchsharp-compat: $tool is not installed; libLibTorchSharp.so left unpatched (apt-get install -y gcc patchelf)" >&2
    exit 0
  fi
done
shim=$(mktemp -d)/libgrid_cxx_shim.so
gcc -shared -fPIC -O2 -o "$shim" "$here/cxx_shim.c"
for dir in "$@"; do
  lib="$dir/libLibTorchSharp.so"
  [ -f "$lib" ] || { echo "no $lib" >&2; exit 1; }
  if patchelf --print-needed "$lib" | grep -qx libgrid_cxx_shim.so; then
    echo "$lib: already patched"; continue
  fi
  cp "$shim" "$dir/"
  python3 "$here/weaken_version_need.py" "$lib" GLIBCXX_3.4.32
  patchelf --add-needed libgrid_cxx_shim.so "$lib"
  patchelf --set-rpath '$ORIGIN' "$lib"
done
