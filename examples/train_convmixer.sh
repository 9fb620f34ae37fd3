#!/usr/bin/env bash
# The main job: build patchnet and train ConvMixer on CIFAR-10.
#
#   bash examples/train_convmixer.sh [flags of convmixer_cifar10]
#
# Data: CIFAR-10 in the official binary layout at $PATCHNET_DATA (default .data/cifar10).
# If it is not there, it is made from ../shared/data/cifar10-jpeg.tar.xz (needs Debian's
# python3-numpy and python3-pil), or fetched by tools/download_cifar10.sh where the
# internet is reachable. On the CPU the program's default is its quick profile
# (ConvMixer-128/4, 2 epochs); `--profile seed` or `--device cuda` runs the seed's
# ConvMixer-256/8 for 10 epochs. Output: runs/convmixer_cifar10/.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${PATCHNET_DATA:-.data/cifar10}

if [ ! -f "$data/cifar-10-batches-bin/test_batch.bin" ]; then
  if [ -f ../shared/data/cifar10-jpeg.tar.xz ]; then
    if ! /usr/bin/python3 -c 'import numpy, PIL' 2>/dev/null; then
      echo "train_convmixer.sh: converting ../shared/data needs python3-numpy and python3-pil:" >&2
      echo "  apt-get install -y python3-numpy python3-pil" >&2
      exit 1
    fi
    echo "== CIFAR-10: ../shared/data/cifar10-jpeg.tar.xz -> $data (official binary layout)"
    /usr/bin/python3 ../shared/data/cifar10_from_jpeg.py "$data"
  else
    echo "== CIFAR-10 is not at $data and ../shared/data is absent: downloading"
    bash tools/download_cifar10.sh "$data"
  fi
fi

echo "== build"
cmake --preset default
cmake --build --preset default --target convmixer_cifar10
echo "== train"
exec ./build/examples/convmixer_cifar10 --data "$data" "$@"
