#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK, from Debian's packages:
#   dataset-fashion-mnist  real images for the mnist_client accuracy test;
#   redis-server           the cluster tests' membership and state store (started per test);
#   curl                   compose/grid-local.sh's readiness checks;
#   gcc, patchelf          the build's patch that lets TorchSharp's native wrapper load on Debian 12.
# Idempotent: does nothing when everything is already there.
set -euo pipefail

need=()
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v patchelf >/dev/null 2>&1 || need+=(patchelf)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-test-deps: installing ${need[*]}"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}"
