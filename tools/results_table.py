#!/usr/bin/python3
"""Reads the runs of tools/reproduce.sh (one folder per run: stdout.log, run.info) and prints
the reference results beside patchnet's, as Markdown, for docs/results.md.

    /usr/bin/python3 tools/results_table.py runs/reproduce [--runs]

A run folder is named <group>-s<seed> (convmixer-s42, involution-inv-s43, ...). Each group is
compared with its reference on the figure the reference reports:
  - ConvMixer (the Keras example): test accuracy of the best-on-validation checkpoint;
  - ShiftViT (the Keras example): test top-1 / top-5 of the final weights (EarlyStopping
    without restore_best_weights): the program's "final weights: test accuracy" lines (a run
    from before they existed falls back to its best checkpoint's figures);
  - the involution networks (the Keras example): validation accuracy of the last epoch, the
    validation set being the test set;
  - the quick ConvMixer profile (no reference; float32 against bf16 matrix products, the
    folders convmixer-quick-fp32-s<seed> and convmixer-quick-bf16-s<seed>): as ConvMixer.
--runs adds one row per run (epochs, seconds per epoch, final and best figures); --logs adds
each run's run.info and per-epoch lines in a collapsed block.
"""

import argparse
import os
import re
import statistics
import sys

EPOCH = re.compile(r"^epoch (\d+)/(\d+)\s+loss (\S+)\s+acc (\S+)(?:\s+top5 (\S+))?\s+val_loss (\S+)\s+val_acc (\S+)"
                   r"(?:\s+val_top5 (\S+))?.*?\s([\d.]+) s$")
TEST = re.compile(r"^test accuracy: ([\d.]+)%")
TEST5 = re.compile(r"^test top-5 accuracy: ([\d.]+)%")
FINAL = re.compile(r"^final weights: test accuracy: ([\d.]+)%")
FINAL5 = re.compile(r"^final weights: test top-5 accuracy: ([\d.]+)%")

# group prefix -> (title, reference figures, which figure of a run is compared)
GROUPS = [
    ("convmixer", "ConvMixer-256/8, 10 epochs", {"top-1": 83.69}, "test"),
    ("shiftvit", "ShiftViT, early stopping", {"top-1": 76.38, "top-5": 98.55}, "final"),
    ("involution-inv", "involution network, 20 epochs", {"top-1": 47.19}, "last_val"),
    ("involution-conv", "conv baseline, 20 epochs", {"top-1": 73.04}, "last_val"),
    # No reference: the quick profile run at each matrix-product precision (bf16 against fp32).
    ("convmixer-quick", "ConvMixer-128/4 (quick profile), 2 epochs", {}, "test"),
]


def parse_run(folder):
    run = {"epochs": {}, "test": None, "test5": None, "final": None, "final5": None, "info": {}}
    log = os.path.join(folder, "stdout.log")
    if not os.path.exists(log):
        return None
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = EPOCH.match(line)
            if m:  # a resumed run repeats nothing, but keep the last line of an epoch anyway
                run["epochs"][int(m.group(1))] = {"of": int(m.group(2)), "acc": float(m.group(4)),
                                                  "val_acc": float(m.group(7)),
                                                  "val_top5": float(m.group(8)) if m.group(8) else None,
                                                  "seconds": float(m.group(9))}
            for key, pattern in (("test", TEST), ("test5", TEST5), ("final", FINAL), ("final5", FINAL5)):
                m = pattern.match(line)
                if m:
                    run[key] = float(m.group(1))
    info = os.path.join(folder, "run.info")
    if os.path.exists(info):
        with open(info) as f:
            for line in f:
                key, _, value = line.strip().partition(" ")
                run["info"][key] = value
    return run


# Experiments beside the reference settings (folder <group>-<variant>-s<seed>).
VARIANTS = {
    "buf256": "tf.data shuffle buffer 256 (experiment)",
    "buf1280": "tf.data shuffle buffer 1280 (experiment)",
    "jpeg2": "data through one more JPEG generation (experiment)",
    "torch": "the PyTorch twin from patchnet's initial weights (tools/twin_train.py)",
    "fp32": "float32 matrix products",
    "bf16": "bf16 matrix products (`--matmul-precision bf16`)",
    "half": "images averaged down to 16x16, stand-ins for original pixels (experiment)",
    "half-jpeg83": "the same 16x16 images through a first JPEG encoding at 30 dB (experiment)",
}


def describe(variant, runs):
    """The variant's row title; it says so when every run of it used bf16 matrix products."""
    text = VARIANTS.get(variant, variant)
    bf16 = runs and all("--matmul-precision bf16" in r["info"].get("command", "") for _, r in runs)
    if bf16 and "bf16" not in text:
        text = text[:-1] + ", bf16 products)" if text.endswith(")") else text + " (bf16 products)"
    return text


def run_row(n, r):
    ep = r["epochs"]
    secs = [e["seconds"] for e in ep.values()]
    last = ep[max(ep)] if ep else None
    nan = float("nan")
    best = max((e["val_acc"] for e in ep.values()), default=nan)
    return (f"| {n} | {r['info'].get('commit', '?').split()[0]} | {len(ep)} | "
            f"{statistics.median(secs) if secs else nan:.0f} | "
            f"{100 * last['acc'] if last else nan:.2f} | {100 * last['val_acc'] if last else nan:.2f} | "
            f"{100 * best:.2f} | {test_cell(r)} |")


def test_cell(r):
    """The run's test accuracy line; a program that scores its final weights as well (ShiftViT)
    prints them before its best checkpoint's, and the cell names both."""
    if r["final"] is not None and r["test"] is not None:
        return f"{r['final']:.2f} (final weights); {r['test']:.2f} (best checkpoint)"
    return "-" if r["test"] is None else f"{r['test']:.2f}"


def figure(run, kind, top5=False):
    if kind == "final" and run["final"] is not None:  # older logs hold only the best checkpoint's
        return run["final5" if top5 else "final"]
    if kind in ("final", "test"):
        return run["test5" if top5 else "test"]
    if not run["epochs"]:
        return None
    return 100.0 * run["epochs"][max(run["epochs"])]["val_acc"]


def summary(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}%"
    return (f"{statistics.mean(values):.2f}% ± {statistics.stdev(values):.2f} "
            f"(min {min(values):.2f}, max {max(values):.2f}, n = {len(values)})")


NAME = re.compile(r"(?:-([a-z0-9]+(?:-[a-z0-9]+)*?))?-s(\d+)$")


def owner(name):
    """The group prefix a run folder belongs to: the longest one it starts with."""
    prefixes = [p for p, *_ in GROUPS if name.startswith(p + "-")]
    return max(prefixes, key=len, default=None)


def split_name(name):
    """<group>-s<seed> (the reference settings) or <group>-<variant>-s<seed> (an experiment;
    the variant may hold dashes) -> (group, variant or "", seed), or None."""
    group = owner(name)
    m = NAME.fullmatch(name[len(group):]) if group else None
    return (group, m.group(1) or "", m.group(2)) if m else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", default="runs/reproduce")
    ap.add_argument("--runs", action="store_true", help="one row per run as well")
    ap.add_argument("--logs", action="store_true", help="each run's run.info and per-epoch lines")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.folder):
        print(f"results_table.py: no folder {args.folder}", file=sys.stderr)
        return 1
    names = sorted(os.listdir(args.folder))
    keys = {n: split_name(n) for n in names}
    rows, run_rows = [], []
    for prefix, title, ref, kind in GROUPS:
        matched = [(n, k[1]) for n, k in keys.items() if k and k[0] == prefix]  # (folder, variant)
        for variant in sorted({""} | {v for _, v in matched}):
            runs = [(n, parse_run(os.path.join(args.folder, n))) for n, v in matched if v == variant]
            runs = [(n, r) for n, r in runs if r is not None]
            if not ref and not runs:
                continue  # a group without a reference shows only what ran
            done = [r for _, r in runs if r["test"] is not None]
            top1 = [v for v in (figure(r, kind) for r in done) if v is not None]
            ours = summary(top1)
            if "top-5" in ref:
                ours += " / " + summary([v for v in (figure(r, kind, top5=True) for r in done) if v is not None])
            unfinished = len(runs) - len(done)
            if unfinished:
                ours += f" ({unfinished} run{'s' if unfinished > 1 else ''} unfinished)"
            if variant:
                rows.append(f"| {title}, {describe(variant, runs)} | | {ours} |")
            elif not ref:
                rows.append(f"| {title} | | {ours} |")
            else:
                rows.append(f"| {title} | {' / '.join(f'{v:.2f}%' for v in ref.values())} | {ours} |")
            for n, r in runs:
                run_rows.append(run_row(n, r))
    print("| model | reference (Keras example) | patchnet, mean ± std over seeds |")
    print("| --- | ---: | ---: |")
    print("\n".join(rows))
    if args.runs:
        print()
        print("| run | commit | epochs | s/epoch (median) | last train acc | last val acc | best val acc | "
              "test acc |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(run_rows))
    if args.logs:
        for n in names:
            log = os.path.join(args.folder, n, "stdout.log")
            if not os.path.exists(log):
                continue
            info = os.path.join(args.folder, n, "run.info")
            lines = open(info).read().splitlines() if os.path.exists(info) else []
            lines += [x.rstrip() for x in open(log, errors="replace")
                      if x.startswith(("epoch ", "early stopping", "resumed", "test ", "final weights:", "data:"))]
            print(f"\n<details><summary>{n}</summary>\n\n```\n" + "\n".join(lines) + "\n```\n</details>")
    return 0


if __name__ == "__main__":
    sys.exit(main())
