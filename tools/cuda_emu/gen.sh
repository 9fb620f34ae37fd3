#!/bin/bash
# gen.sh [SRC [OUT]]: rewrite the CUDA sources SRC (default <repo>/cuda) into emulatable ones
# in OUT (default $EMU_BUILD/gen). Grid caps shrink through the emulator's own grid_for and
# capped_blocks (emu.hpp), so capped paths run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-$root/cuda}
out=${2:-${EMU_BUILD:-/tmp/patchnet-cuda-emu}/gen}
mkdir -p "$out"
rm -f "$out"/*.cu "$out"/*.cuh
python3 "$here/conv.py" "$src" "$out"
