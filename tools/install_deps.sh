#!/usr/bin/env bash
# Installs the Debian packages a task needs, unless they are there already.
#
#   bash tools/install_deps.sh build   # compiler, CMake, Eigen, doctest, Google Benchmark, stb,
#                                      # libjpeg-turbo, libpng
#   bash tools/install_deps.sh data    # + python3-numpy, python3-pil (CIFAR-10 from ../shared/data)
#
# As root it runs apt-get; otherwise through sudo when sudo needs no password; otherwise it
# prints the exact command to run and exits 1. Nothing is installed when nothing is missing.
set -euo pipefail

packages=(ca-certificates cmake ninja-build g++ libeigen3-dev doctest-dev libbenchmark-dev libstb-dev libturbojpeg0-dev libpng-dev
          libopenmpi-dev openmpi-bin)
for what in "$@"; do
  case $what in
    build) ;;
    data) packages+=(python3-numpy python3-pil) ;;
    *) echo "install_deps.sh: unknown task '$what' (build | data)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command -v apt-get > /dev/null || {
  echo "install_deps.sh: missing ${missing[*]}, and this is not a Debian-like system (no apt-get): install them by hand" >&2
  exit 1
}
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
  sudo=(sudo)
else
  echo "install_deps.sh: missing packages; run this as root, then the command again:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "== installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
