#!/bin/bash
# mutate.sh NAME FILE 'OLD' 'NEW' TEST [ARGS...]: plant one bug (OLD -> NEW, exactly once in
# cuda/FILE) in a copy of cuda/, then build and run TEST against it. A good test fails:
# exit 0 if the mutant was caught, 1 if it survived, 2 if it did not build.
# Log: $EMU_BUILD/mut_NAME.log.
set -euo pipefail
[ $# -ge 5 ] || { sed -n '2,5p' "$0"; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${EMU_BUILD:-/tmp/patchnet-cuda-emu}
name=$1 file=$2 old=$3 new=$4 test=$5; shift 5
mut=$build/mut
rm -rf "$mut" && mkdir -p "$mut" && cp -r "$root/cuda" "$mut/cuda"
python3 - "$mut/cuda/$file" "$old" "$new" <<'PY'
import sys
p, old, new = sys.argv[1:]
s = open(p).read()
assert s.count(old) == 1, (p, old, s.count(old))
open(p, 'w').write(s.replace(old, new))
PY
log=$build/mut_$name.log
set +e
EMU_BUILD=$mut EMU_CUDA=$mut/cuda EMU_ARGS="$*" bash "$here/run.sh" "$test" > "$log" 2>&1
rc=$?
set -e
first=$(grep -m1 'FAIL \|FAIL$\|EMU ERROR\|error:' "$log" || true)
echo "MUTANT $name: rc=$rc $(grep -c '^FAIL' "$log") FAIL lines; first: $first"
grep -v '^== \|^t_' "$log" | tail -1
case $rc in
  0) echo "MUTANT $name SURVIVED"; exit 1 ;;
  2) echo "MUTANT $name DID NOT BUILD (see $log)"; exit 2 ;;
  *) exit 0 ;;
esac
