#!/bin/bash
# run.sh [--asan] [TEST ...]: regenerate the emulated kernels, build and run each test
# (reduce softmax_loss pool_drop_optim norm conv shift_involution pointwise; default all). Exit 1 on
# a test failure, 2 on a build failure. Env: EMU_BUILD (build folder, default
# /tmp/patchnet-cuda-emu), EMU_ARGS (arguments for every test binary, e.g. an iteration
# count), EMU_CUDA (kernel source folder, default <repo>/cuda; mutate.sh points it at a
# mutated copy).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${EMU_BUILD:-/tmp/patchnet-cuda-emu}
asan=0
tests=()
for a in "$@"; do
  case $a in
    --asan) asan=1 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) a=${a%.cpp}; tests+=("${a#t_}") ;;
  esac
done
[ ${#tests[@]} -eq 0 ] && tests=(reduce softmax_loss pool_drop_optim norm conv shift_involution pointwise)
for t in "${tests[@]}"; do
  [ -f "$here/t_$t.cpp" ] || { echo "run.sh: no test $here/t_$t.cpp" >&2; exit 2; }
done
mkdir -p "$build"
bash "$here/gen.sh" "${EMU_CUDA:-$root/cuda}" "$build/gen" || { echo "run.sh: gen.sh failed" >&2; exit 2; }

flags=(-std=c++20 -O2)
suffix=
if [ $asan = 1 ]; then
  # the emulator switches to ucontext fibers under ASan (slow): fewer iterations by default
  flags=(-std=c++20 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all)
  suffix=_asan
fi
declare -A asan_args=([reduce]=8 [softmax_loss]=40 [pool_drop_optim]=40 [norm]=6 [conv]=100 [shift_involution]=150 [pointwise]=10)

status=0
summary=()
for t in "${tests[@]}"; do
  bin=$build/t_$t$suffix
  echo "== t_$t$suffix: build"
  if ! g++ "${flags[@]}" -I"$root/include" -I"$here" -I"$build/gen" -o "$bin" "$here/t_$t.cpp" -lpthread; then
    summary+=("t_$t$suffix: BUILD FAILED"); status=2; continue
  fi
  if [ -n "${EMU_ARGS:-}" ]; then read -ra args <<< "$EMU_ARGS"
  elif [ $asan = 1 ] && [ -n "${asan_args[$t]:-}" ]; then args=("${asan_args[$t]}")
  else args=(); fi
  echo "== t_$t$suffix: run ${args[*]}"
  start=$SECONDS
  "$bin" "${args[@]}"
  rc=$?
  if [ $rc -eq 0 ]; then summary+=("t_$t$suffix: PASS ($((SECONDS - start))s)")
  else summary+=("t_$t$suffix: FAIL rc=$rc"); [ $status -eq 0 ] && status=1; fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
