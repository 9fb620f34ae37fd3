#!/usr/bin/env bash
# The main job: build patchnet and train ConvMixer on CIFAR-10.
#
#   bash examples/train_convmixer.sh [flags of convmixer_cifar10]
#
# Installs the Debian packages it needs first (tools/install_deps.sh: as root, or prints the
# apt-get line to run). Data: CIFAR-10 in the official binary layout at $PATCHNET_DATA (default .data/cifar10),
# made by tools/prepare_cifar10.sh when it is not there. On the CPU the program's default
# is its quick profile (ConvMixer-128/4, 2 epochs); `--profile seed` or `--device cuda`
# runs the seed's ConvMixer-256/8 for 10 epochs. Output: runs/convmixer_cifar10/.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${PATCHNET_DATA:-.data/cifar10}

bash tools/install_deps.sh build data
bash tools/prepare_cifar10.sh "$data"

echo "== build"
cmake --preset default
cmake --build --preset default --target convmixer_cifar10
echo "== train"
exec ./build/examples/convmixer_cifar10 --data "$data" "$@"
