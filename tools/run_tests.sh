#!/usr/bin/env bash
# The README's test command: installs what the build needs (tools/install_deps.sh), then
# configures, builds and runs the test suite of a preset (default: `default`, which builds
# the CUDA part too where nvcc is installed; the GPU suite reports "skipped" without a GPU).
#
#   bash tools/run_tests.sh [preset] [ctest arguments...]     e.g. bash tools/run_tests.sh cpu -R conv
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
[ $# -gt 0 ] && shift
bash tools/install_deps.sh build
cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset" "$@"
