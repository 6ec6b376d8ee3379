# Steps of scripts/gpu/pack.sh; sourced, not run. Each function
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

# Copies Debian's redis-server and the libraries it links beyond glibc and the C++ runtime
# (which every host has) to $1, with a wrapper that finds them.
gpu_copy_redis() {
  echo "$pack_name: copying redis-server ..." >&2
  local redis
  redis=$(readlink -f "$(command -v redis-server)")
  mkdir -p "$1/lib"
  cp "$redis" "$1/redis-server.bin"
  ldd "$redis" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) ;;
      *) cp -L "$lib" "$1/lib/" ;;
    esac
  done
  cat > "$1/redis-server" <<'WRAP'
#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/redis-server.bin" "$@"
WRAP
  chmod +x "$1/redis-server"
}

# Packs folder $2 under $1 as $2.tar.xz, split into parts of $4 MiB in $3 ($2.tar.xz.000, …),
# and writes $3/$2.manifest: the part count and names, and the whole archive's size and sha256,
# which scripts/gpu/receive.sh checks after reassembling.
gpu_split_archive() {
  echo "$pack_name: compressing ..." >&2
  local dir=$3 archive=$1/$2.tar.xz
  tar -C "$1" -cf - "$2" | xz -T0 -6 > "$archive"
  rm -rf "$dir"
  mkdir -p "$dir"
  split -b "$4M" -d -a 3 "$archive" "$dir/$2.tar.xz."
  {
    echo "archive $2.tar.xz"
    echo "size $(stat -c %s "$archive")"
    echo "sha256 $(sha256sum "$archive" | awk '{ print $1 }')"
    echo "commit $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
    (cd "$dir" && ls "$2".tar.xz.* | sed 's/^/part /')
  } > "$dir/$2.manifest"
  echo "$pack_name: $(stat -c %s "$archive" | awk '{ printf "%.0f MiB", $1 / 1048576 }') in $(ls "$dir/$2".tar.xz.* | wc -l) parts of at most $4 MiB under $dir"
  rm -f "$archive"
}
