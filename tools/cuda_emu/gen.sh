#!/bin/bash
# gen.sh [SRC [OUT]]: rewrite the CUDA sources SRC (default <repo>/cuda) into emulatable ones
# in OUT (default $EMU_BUILD/gen). The substitutions shrink grid caps so capped paths run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-$root/cuda}
out=${2:-${EMU_BUILD:-/tmp/patchnet-cuda-emu}/gen}
mkdir -p "$out"
rm -f "$out"/*.cu "$out"/*.cuh
python3 "$here/conv.py" "$src" "$out" \
  'pool.cu|N < 65535 ? N : 65535|N < ::emu_cap() ? N : ::emu_cap()' \
  'norm.cuh|b > 65535 ? 65535 : b|b > ::emu_cap() ? ::emu_cap() : b' \
  'group_norm.cu|int64_t{1} << 16|int64_t{::emu_cap()}'
