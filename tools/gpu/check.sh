#!/usr/bin/env bash
# The GPU checks, run on the device machine in one call (first assemble .device/
# here with tools/gpu/bundle.sh and carry it):
#
#   bash tools/gpu/check.sh [stage ...]      default: build test sanitize bench
#
# stages
#   build     configure and build the GPU suite, the benchmarks and the examples (sm_90), or
#             unpack .device/prebuilt.tar.xz (bundle.sh --prebuilt) when its programs run here
#   test      the GPU suite (every kernel against the CPU, whole model steps, allocator)
#   sanitize  compute-sanitizer memcheck and racecheck over the GPU suite's kernel tests
#   bench     the CUDA microbenchmarks and PyTorch's figures for the same shapes
#   train     ConvMixer-256/8 with the seed's settings, 10 epochs on the full CIFAR-10
#   pytorch   the same run in PyTorch (bench/pytorch_convmixer.py)
#   quick     train + pytorch with --epochs 1 (a timing of one epoch each)
# Logs go to $OUT (the tool's result folder) or /tmp/gpu-out; a table of the results last.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
export CMAKE_PREFIX_PATH=$ROOT/.device
export LD_LIBRARY_PATH=$ROOT/.device/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PATCHNET_DATA_DIR=$ROOT/.device/data
export PATH=/usr/local/cuda/bin:$PATH
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test sanitize bench)
declare -a table
row() { table+=("$(printf '%-10s %-6s %s' "$1" "$2" "$3")"); }
now() { date +%s; }
# Binaries: the build stage sets BIN; without it, an earlier build's folder.
BIN=$ROOT/build-gpu/bin
[ -d "$BIN" ] || BIN=/tmp/prebuilt/bin

stage_build() {
  local t0; t0=$(now)
  if [ -f .device/prebuilt.tar.xz ]; then
    mkdir -p /tmp/prebuilt && tar -C /tmp/prebuilt -xJf .device/prebuilt.tar.xz
    if /tmp/prebuilt/tests/patchnet_gpu_tests --list-test-cases >/dev/null 2>&1; then
      mkdir -p /tmp/prebuilt/bin && ln -sf /tmp/prebuilt/tests/* /tmp/prebuilt/bench/* /tmp/prebuilt/examples/* /tmp/prebuilt/bin/
      BIN=/tmp/prebuilt/bin
      row build ok "prebuilt binaries from .device/prebuilt.tar.xz"
      return
    fi
    echo "the prebuilt binaries do not run here: building"
  fi
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DPATCHNET_NATIVE=ON -DPATCHNET_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DPATCHNET_INSTALL=OFF >"$OUT/build.log" 2>&1 &&
    cmake --build build-gpu -j16 --target patchnet_gpu_tests patchnet_bench convmixer_cifar10 shiftvit_cifar10 \
      involution_cifar10 >>"$OUT/build.log" 2>&1
  local rc=$?
  tail -5 "$OUT/build.log"
  mkdir -p build-gpu/bin
  for f in tests/patchnet_gpu_tests bench/patchnet_bench examples/convmixer_cifar10 examples/shiftvit_cifar10 \
    examples/involution_cifar10; do [ -x "build-gpu/$f" ] && ln -sf "$ROOT/build-gpu/$f" build-gpu/bin/; done
  BIN=$ROOT/build-gpu/bin
  row build "$([ $rc = 0 ] && echo ok || echo FAIL)" "$(($(now) - t0)) s (log: build.log)"
}

stage_test() {
  local t0; t0=$(now)
  "$BIN/patchnet_gpu_tests" --duration=true 2>&1 | tee "$OUT/gpu_tests.log" | grep -E "GPU suite|ERROR|FAILED|test cases|assertions|MESSAGE|agree" | head -80
  local rc=${PIPESTATUS[0]}
  row test "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$(grep -E '^\[doctest\] test cases' "$OUT/gpu_tests.log" | tr -s ' ') $(($(now) - t0)) s"
}

stage_sanitize() {
  # The model-step and fit cases are left out: under the sanitizer they take many minutes,
  # and they run the same kernels the op cases run.
  local skip='cuda step*,cuda fit*'
  for tool in memcheck racecheck; do
    local t0; t0=$(now)
    compute-sanitizer --tool $tool --error-exitcode 3 "$BIN/patchnet_gpu_tests" --test-case-exclude="$skip" \
      >"$OUT/sanitize_$tool.log" 2>&1
    local rc=$?
    tail -3 "$OUT/sanitize_$tool.log"
    row "$tool" "$([ $rc = 0 ] && echo ok || echo FAIL)" "$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/sanitize_$tool.log" | tail -1) $(($(now) - t0)) s"
  done
}

stage_bench() {
  local t0; t0=$(now)
  "$BIN/patchnet_bench" --benchmark_filter='cuda' --benchmark_min_time=0.2 --benchmark_format=console \
    --benchmark_out="$OUT/bench_cuda.json" --benchmark_out_format=json 2>&1 | tee "$OUT/bench_cuda.log" | tail -60
  python3 bench/pytorch_ops.py --device cuda 2>&1 | tee "$OUT/bench_pytorch.log" | tail -40
  row bench ok "$(($(now) - t0)) s (bench_cuda.log, bench_pytorch.log)"
}

cifar10() {
  [ -f /tmp/cifar10/cifar-10-batches-bin/test_batch.bin ] && return
  python3 .device/data/cifar10_from_jpeg.py /tmp/cifar10 --archive .device/data/cifar10-jpeg.tar.xz >/dev/null
}

stage_train() {
  cifar10
  local t0; t0=$(now)
  "$BIN/convmixer_cifar10" --device cuda --data /tmp/cifar10 --save /tmp/run-convmixer --no-progress "$@" 2>&1 |
    tee "$OUT/train_convmixer.log" | grep -vE '^\s*$' | tail -25
  row train "$([ "${PIPESTATUS[0]}" = 0 ] && echo ok || echo FAIL)" \
    "$(grep -iE 'test accuracy' "$OUT/train_convmixer.log" | tail -1) $(($(now) - t0)) s"
}

stage_pytorch() {
  cifar10
  local t0; t0=$(now)
  python3 bench/pytorch_convmixer.py --data /tmp/cifar10 "$@" 2>&1 | tee "$OUT/pytorch_convmixer.log" | tail -14
  row pytorch "$([ "${PIPESTATUS[0]}" = 0 ] && echo ok || echo FAIL)" \
    "$(grep -E 'test accuracy' "$OUT/pytorch_convmixer.log" | tail -1) $(($(now) - t0)) s"
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$OUT/gpu.txt"
for s in "${stages[@]}"; do
  echo "=== $s"
  case $s in
    build) stage_build ;;
    test) stage_test ;;
    sanitize) stage_sanitize ;;
    bench) stage_bench ;;
    train) stage_train ;;
    pytorch) stage_pytorch ;;
    quick) stage_train --epochs 1 && stage_pytorch --epochs 1 ;;
    *) echo "unknown stage $s" ;;
  esac
done
echo
echo "=== summary ($(date -u +%F), $(head -1 "$OUT/gpu.txt"))"
printf '%s\n' "${table[@]}"
