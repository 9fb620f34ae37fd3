#!/usr/bin/env bash
# Repeats the runs of docs/results.md on the CPU and prints the table of reference results
# against patchnet's (tools/results_table.py).
#
#   bash tools/reproduce.sh [convmixer|shiftvit|involution|precision|twin|jpegcost|all] [--seeds "42 43 44"]
#                           [--out runs/reproduce] [--data .data/cifar10] [--nets "inv conv convmixer"] [--dry-run]
#
# Each run gets a folder <out>/<run>-s<seed> with stdout.log (the per-epoch lines and the test
# figures), run.info (commit, command, start, end, exit status), log.csv, the checkpoints and
# the pictures. A finished run (its log holds the test accuracy) is skipped; an unfinished
# one resumes from its last.safetensors, so the script can be stopped and started again.
# Checkpoints are written every 100 steps (--checkpoint-every). Times on the development VM
# (2 vCPUs): involution network 2 min, conv baseline 8 min, ConvMixer-256/8 about 75 min,
# ShiftViT several hours (docs/results.md). `precision` (not part of all) trains the quick
# ConvMixer profile with each seed in float32 and under --matmul-precision bf16, about 5
# minutes a run (docs/performance.md, "bf16 and accuracy"). `twin` (not part of all; needs
# Debian's python3-torch) trains the PyTorch twins of the involution network and the conv
# baseline from patchnet's initial weights for each seed, 7-8 minutes a run
# (tools/twin_train.py). `jpegcost` (not part of all) measures what a first JPEG encoding
# costs: the images averaged down to 16x16 (stand-ins for original pixels) against the same
# images through JPEG at 30 dB (tools/recompress_cifar10.py --downscale 2), for the nets
# --nets names (inv: the involution network, conv: the conv baseline, convmixer:
# ConvMixer-256/8 with bf16 products, about an hour a run on the AMD EPYC VM; default all
# three, in that order). --nets also picks the networks of `involution` (inv, conv).
set -euo pipefail
cd "$(dirname "$0")/.."

what=all seeds="42 43 44" out=runs/reproduce data=.data/cifar10 dry=0 nets="inv conv convmixer"
while [ $# -gt 0 ]; do
  case "$1" in
    convmixer|shiftvit|involution|precision|twin|jpegcost|all) what=$1 ;;
    --seeds) seeds=$2; shift ;;
    --out) out=$2; shift ;;
    --data) data=$2; shift ;;
    --nets) nets=$2; shift ;;
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "reproduce.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

for net in $nets; do
  case $net in inv|conv|convmixer) ;; *) echo "reproduce.sh: unknown net '$net' in --nets (inv, conv, convmixer)" >&2; exit 2 ;; esac
done

bin=build-cpu/examples
if [ "$dry" = 0 ]; then
  bash tools/prepare_cifar10.sh "$data"
  cmake --preset cpu > /dev/null
  cmake --build --preset cpu --target convmixer_cifar10 shiftvit_cifar10 involution_cifar10 trace
fi

# finished DIR: the run in DIR has printed its test figures (skipped then).
finished() {
  if [ -f "$1/stdout.log" ] && grep -q '^test accuracy:' "$1/stdout.log"; then
    echo "== $1: finished, skipped"
    return 0
  fi
  return 1
}
# started DIR COMMAND...: appends the run's commit, command, machine and start to DIR/run.info.
started() {
  local dir=$1
  shift
  mkdir -p "$dir"
  {
    echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- include examples tools || echo ' (modified)')"
    echo "command $*"
    echo "machine $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "start $(date -u +%FT%TZ)"
  } >> "$dir/run.info"
}

# run NAME PROGRAM FLAGS...: one run, resumed or skipped as its folder says.
run() {
  local dir=$out/$1 program=$2
  shift 2
  local flags=("$@" --data "$data" --save "$dir" --no-progress --checkpoint-every 100)
  finished "$dir" && return
  if [ -f "$dir/last.safetensors" ]; then flags+=(--resume "$dir/last.safetensors"); fi
  echo "== $dir: $program ${flags[*]}"
  [ "$dry" = 1 ] && return
  started "$dir" "$bin/$program" "${flags[@]}"
  local rc=0
  "$bin/$program" "${flags[@]}" >> "$dir/stdout.log" 2>> "$dir/stderr.log" || rc=$?
  echo "end $(date -u +%FT%TZ) exit $rc" >> "$dir/run.info"
  if [ $rc -ne 0 ]; then echo "== $dir: exit status $rc (see $dir/stderr.log)" >&2; fi
}

for s in $seeds; do
  case $what in involution|all)
    for net in $nets; do
      case $net in inv|conv) run involution-$net-s$s involution_cifar10 --model "$net" --seed "$s" ;; esac
    done ;;
  esac
done
for s in $seeds; do
  case $what in convmixer|all) run convmixer-s$s convmixer_cifar10 --profile seed --seed "$s" ;; esac
done
for s in $seeds; do
  case $what in precision)
    run convmixer-quick-fp32-s$s convmixer_cifar10 --matmul-precision fp32 --seed "$s"
    run convmixer-quick-bf16-s$s convmixer_cifar10 --matmul-precision bf16 --seed "$s" ;;
  esac
done
# What a first JPEG encoding costs: data made from $data, quality 83 gives the
# 30 dB the shared copy has against the original pixels (75 gives 28.3 dB at 16x16).
if [ "$what" = jpegcost ]; then
  copies="half:0 half-jpeg83:83"  # the run's variant (and data folder suffix):JPEG quality (0: none)
  for copy in $copies; do
    d=$data-${copy%:*}
    [ "$dry" = 1 ] || [ -f "$d/cifar-10-batches-bin/test_batch.bin" ] ||
      /usr/bin/python3 tools/recompress_cifar10.py "$data" "$d" --downscale 2 --quality "${copy#*:}"
  done
  for net in $nets; do
    for s in $seeds; do
      for copy in $copies; do
        v=${copy%:*}
        case $net in
          inv|conv) data=$data-$v run involution-$net-$v-s$s involution_cifar10 --model "$net" --seed "$s" ;;
          convmixer) data=$data-$v run convmixer-$v-s$s convmixer_cifar10 --profile seed --matmul-precision bf16 --seed "$s" ;;
        esac
      done
    done
  done
fi
# The PyTorch twin of the involution network (inv) or the conv baseline (conv), from
# patchnet's initial weights of a seed: twin MODEL SEED.
twin() {
  local dir=$out/involution-$1-torch-s$2
  local init=$dir/init.safetensors
  finished "$dir" && return
  echo "== $dir: tools/twin_train.py from the initial weights of seed $2"
  [ "$dry" = 1 ] && return
  started "$dir" tools/twin_train.py "$init" --data "$data"
  build-cpu/tools/trace/trace --model "$1" --data "$data" --seed "$2" --steps 1 --out "$init" > /dev/null
  local rc=0
  /usr/bin/python3 tools/twin_train.py "$init" --data "$data" > "$dir/stdout.log" 2> "$dir/stderr.log" || rc=$?
  echo "end $(date -u +%FT%TZ) exit $rc" >> "$dir/run.info"
}
for s in $seeds; do
  case $what in twin) twin inv "$s"; twin conv "$s" ;; esac
done
# ShiftViT: one seed (several hours a run on two cores).
case $what in shiftvit|all) run shiftvit-s${seeds%% *} shiftvit_cifar10 --seed "${seeds%% *}" ;; esac

[ "$dry" = 1 ] && exit 0
/usr/bin/python3 tools/results_table.py "$out" --runs
