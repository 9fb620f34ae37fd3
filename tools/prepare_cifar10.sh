#!/usr/bin/env bash
# CIFAR-10 in the official binary layout at DIR (default .data/cifar10), unless it is there:
# made from ../shared/data/cifar10-jpeg.tar.xz (needs Debian's python3-numpy and
# python3-pil), or fetched by tools/download_cifar10.sh where the internet is reachable.
#
#   bash tools/prepare_cifar10.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-.data/cifar10}
[ -f "$data/cifar-10-batches-bin/test_batch.bin" ] && exit 0
if [ -f ../shared/data/cifar10-jpeg.tar.xz ]; then
  if ! /usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null; then
    echo "prepare_cifar10.sh: converting ../shared/data needs python3-numpy and python3-pil:" >&2
    echo "  apt-get install -y python3-numpy python3-pil" >&2
    exit 1
  fi
  echo "== CIFAR-10: ../shared/data/cifar10-jpeg.tar.xz -> $data (official binary layout)"
  /usr/bin/python3 ../shared/data/cifar10_from_jpeg.py "$data"
else
  echo "== CIFAR-10 is not at $data and ../shared/data is absent: downloading"
  bash tools/download_cifar10.sh "$data"
fi
