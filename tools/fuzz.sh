#!/usr/bin/env bash
# fuzz.sh [--time S | --runs N] [--jobs J] [NAME ...]: builds the libFuzzer harnesses of
# tests/fuzz/ with clang (ASan + UBSan, -O1) and runs each from its seed corpus
# (tests/fuzz/corpus/NAME, copied so the repo's corpus stays as committed).
#   names: safetensors json cifar10 image cli (default: all)
#   --time S   seconds per harness (default 60: the CI run)
#   --runs N   executions per harness instead (the 10-million campaign: --runs 10000000)
# Prints, per harness, the executions, coverage (libFuzzer's cov/ft) and corpus size, and
# exits 1 if a harness found something (its crash input is kept under $FUZZ_BUILD/NAME/).
# Needs clang (Debian: clang); build folder $FUZZ_BUILD (default /tmp/patchnet-fuzz).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${FUZZ_BUILD:-/tmp/patchnet-fuzz}
limit=(-max_total_time=60)
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) limit=(-max_total_time="$2"); shift ;;
    --runs) limit=(-runs="$2"); shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) names+=("$1") ;;
  esac
  shift
done
[ ${#names[@]} -eq 0 ] && names=(safetensors json cifar10 image cli)
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (Debian: apt-get install clang)" >&2; exit 2; }

flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I"$root/examples" -I/usr/include/eigen3 -I/usr/include/stb)
libs=(-lturbojpeg -lpng)
status=0
summary=()
for n in "${names[@]}"; do
  src=$root/tests/fuzz/fuzz_$n.cpp
  [ -f "$src" ] || { echo "fuzz.sh: no harness $src" >&2; exit 2; }
  dir=$build/$n
  mkdir -p "$dir/corpus"
  echo "== fuzz_$n: build"
  if ! clang++ "${flags[@]}" -o "$dir/fuzz_$n" "$src" "${libs[@]}"; then
    summary+=("fuzz_$n: BUILD FAILED"); status=2; continue
  fi
  cp -n "$root/tests/fuzz/corpus/$n/"* "$dir/corpus/" 2>/dev/null
  echo "== fuzz_$n: run ${limit[*]}"
  # -rss_limit_mb: a parser that allocates more than 2 GB for any input is a finding;
  # -timeout: so is one input taking more than 10 s.
  (cd "$dir" && ./"fuzz_$n" "${limit[@]}" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 corpus \
     > log.txt 2>&1)
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/log.txt" | tail -1)
  files=$(ls "$dir/corpus" | wc -l)
  if [ $rc -eq 0 ]; then
    summary+=("fuzz_$n: ok, ${runs:-?} executions, ${cov:-cov ?}, corpus $files files")
  else
    summary+=("fuzz_$n: FOUND SOMETHING (rc $rc) after ${runs:-?} executions: see $dir/log.txt")
    tail -40 "$dir/log.txt"
    status=1
  fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
