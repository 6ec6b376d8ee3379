# Steps shared by scripts/gpu/pack.sh and pack-bench.sh; sourced, not run. Each function
# prints its progress on stderr prefixed with $pack_name.

# Copies the checkout to $1 without build outputs, so the host-libtorch flavour's restore and
# build never touch the checkout's obj/ and bin/ folders (which hold the bundled flavour).
gpu_copy_sources() {
  mkdir -p "$1"
  (cd "$root" && tar --exclude=./artifacts --exclude=.git --exclude=bin --exclude=obj --exclude=.grid-state --exclude=.grid-local -cf - .) | tar -xf - -C "$1"
}

# Fails when a publish folder $1 still carries the bundled libtorch.
gpu_check_host_flavour() {
  if ls "$1"/libtorch_cpu.so >/dev/null 2>&1; then
    echo "$pack_name: $1 still bundles libtorch_cpu.so; the host flavour did not apply" >&2
    exit 1
  fi
}

# Copies the .NET runtime this machine runs (host, NETCore and AspNetCore shared frameworks,
# without the debugger and crash-dump libraries) to $1/dotnet, and the commit to $1/COMMIT.
gpu_copy_runtime() {
  echo "$pack_name: copying the .NET runtime ..." >&2
  local dotnet_root runtime aspnet
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  runtime=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
  aspnet=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
  mkdir -p "$1/dotnet/shared/Microsoft.NETCore.App" "$1/dotnet/shared/Microsoft.AspNetCore.App"
  cp "$dotnet_root/dotnet" "$1/dotnet/"
  cp -r "$dotnet_root/host" "$1/dotnet/"
  cp -r "$dotnet_root/shared/Microsoft.NETCore.App/$runtime" "$1/dotnet/shared/Microsoft.NETCore.App/"
  cp -r "$dotnet_root/shared/Microsoft.AspNetCore.App/$aspnet" "$1/dotnet/shared/Microsoft.AspNetCore.App/"
  rm -f "$1/dotnet/shared/Microsoft.NETCore.App/$runtime"/{libmscordaccore.so,libmscordbi.so,createdump}
  git -C "$root" rev-parse HEAD > "$1/COMMIT" 2>/dev/null || echo unknown > "$1/COMMIT"
}

# Packs folder $2 under $1 into $3 (tar.xz) and fails above the device tool's 64 MiB carry limit.
gpu_compress() {
  echo "$pack_name: compressing ..." >&2
  tar -C "$1" -cf - "$2" | xz -T0 -9 > "$3"
  local size
  size=$(stat -c %s "$3")
  echo "$pack_name: $3 ($((size / 1024 / 1024)) MiB)"
  if [ "$size" -gt $((64 * 1024 * 1024)) ]; then
    echo "$pack_name: larger than the device tool's 64 MiB carry limit" >&2
    exit 1
  fi
}
