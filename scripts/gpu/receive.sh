#!/usr/bin/env bash
# Receives the parts of scripts/gpu/pack.sh's archive on the GPU machine, one transfer at a time,
# and unpacks the archive once every part is there. Run it in each call that carries parts:
# it moves the parts and the manifest it finds under artifacts/gpu/parts/ to $GRID_GPU_STORE
# (default artifacts/gpu/store: ignored by git, so it stays between calls on a machine that is
# kept, and inside the checkout, where the suite finds the repository), says which parts are still missing, and when none is, joins them, checks the
# archive's size and sha256 against the manifest and unpacks it to $GRID_GPU_STORE/grid-gpu,
# where scripts/gpu/run-tests.sh and run-bench.sh find it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
store=${GRID_GPU_STORE:-$root/artifacts/gpu/store}
incoming=$root/artifacts/gpu/parts
mkdir -p "$store/parts"
if [ -d "$incoming" ]; then
  find "$incoming" -maxdepth 1 -type f \( -name 'grid-gpu.tar.xz.*' -o -name 'grid-gpu.manifest' \) -exec mv -f {} "$store/parts/" \;
fi
manifest=$store/parts/grid-gpu.manifest
if [ ! -f "$manifest" ]; then
  echo "receive: no manifest yet ($(ls "$store/parts" | wc -l) part(s) stored in $store/parts)"
  exit 0
fi
missing=()
for part in $(awk '$1 == "part" { print $2 }' "$manifest"); do
  [ -f "$store/parts/$part" ] || missing+=("$part")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "receive: waiting for ${missing[*]}"
  exit 0
fi
echo "receive: every part is here; joining and checking ..."
archive=$store/grid-gpu.tar.xz
cat $(awk -v d="$store/parts" '$1 == "part" { print d "/" $2 }' "$manifest") > "$archive"
size=$(stat -c %s "$archive")
sum=$(sha256sum "$archive" | awk '{ print $1 }')
if [ "$size" != "$(awk '$1 == "size" { print $2 }' "$manifest")" ] || [ "$sum" != "$(awk '$1 == "sha256" { print $2 }' "$manifest")" ]; then
  echo "receive: the joined archive does not match the manifest (size $size, sha256 $sum)" >&2
  exit 1
fi
rm -rf "$store/grid-gpu"
xz -T0 -dc "$archive" | tar -xf - -C "$store"
rm -f "$archive"
echo "receive: unpacked $(du -sh "$store/grid-gpu" | cut -f1) to $store/grid-gpu (commit $(awk '$1 == "commit" { print $2 }' "$manifest"))"
