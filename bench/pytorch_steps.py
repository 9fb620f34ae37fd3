#!/usr/bin/python3
"""PyTorch's time for the training steps bench/step_bench.cpp times in patchnet: the same
four models (the twins in tools/: ConvMixer-256/8 at batch 128, ShiftViT at the reference
settings at batch 256 on 48x48 crops, the involution network and the conv baseline at batch
256), train mode, forward, cross entropy on the logits, backward, AdamW / Adam step, on
random images and labels. Median of --reps steps after --warmup.

    /usr/bin/python3 bench/pytorch_steps.py [--channels-last] [--json]

Debian's python3-torch needs libopenblas0-pthread (without it torch falls back to the
reference BLAS and is about 30 times slower); the script refuses to time without it.
bench/steps.py runs this beside patchnet_bench and prints one table.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from convmixer import ConvMixer  # noqa: E402
from involution_net import conv_net, involution_net  # noqa: E402
from shiftvit import ShiftViT  # noqa: E402


def blas_check():
    """The BLAS torch has loaded after a matrix product: openblas / mkl, or a refusal."""
    x = torch.rand(256, 256)
    _ = x @ x
    maps = open("/proc/self/maps").read()
    for lib in ("openblas", "mkl"):
        if "lib" + lib in maps:
            return lib
    if "libblas.so" in maps:
        raise SystemExit("pytorch_steps.py: torch uses the reference BLAS (libblas.so); install libopenblas0-pthread "
                         "(apt-get install -y libopenblas0-pthread), or the figures are about 30 times too slow")
    return "built in"


MODELS = {
    # name: (build, batch, image size, optimizer)
    "convmixer_256_8_batch128": (lambda: ConvMixer(256, 8, 5, 2, softmax_head=False), 128, 32,
                                 lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-4, eps=1e-7)),
    "shiftvit_batch256": (lambda: ShiftViT(), 256, 48,
                          lambda p: torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-4, eps=1e-7)),
    "involution_net_batch256": (involution_net, 256, 32, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7)),
    "conv_net_batch256": (conv_net, 256, 32, lambda p: torch.optim.Adam(p, lr=1e-3, eps=1e-7)),
}


def time_step(name, channels_last, reps, warmup):
    build, batch, size, make_opt = MODELS[name]
    torch.manual_seed(0)
    model = build().train()
    x = torch.rand(batch, 3, size, size) * 255.0
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    labels = torch.arange(batch) * 7 % 10
    opt = make_opt(model.parameters())

    def step():
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--channels-last", action="store_true", help="models and inputs in channels_last")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--filter", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", action="store_true", help="one JSON object: {name: seconds per step}")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    blas = blas_check()
    results = {}
    for name in MODELS:
        if args.filter in name:
            results[name] = time_step(name, args.channels_last, args.reps, args.warmup)
    if args.json:
        print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas,
                          "channels_last": args.channels_last, "seconds_per_step": results}))
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS {blas}"
              + (", channels_last" if args.channels_last else ""))
        for name, s in results.items():
            print(f"{name:28s} {s * 1e3:10.1f} ms/step")


if __name__ == "__main__":
    main()
