#!/usr/bin/python3
"""Replays a patchnet training trace (tools/trace/trace.cpp) in the model's PyTorch twin, in
float64, and compares the two trajectories: the loss of every step and every parameter and
BatchNorm statistic after the last step.

    build-cpu/tools/trace/trace --model convmixer --data .data/cifar10 --steps 50 --out /tmp/t.safetensors
    /usr/bin/python3 tools/trace_check.py /tmp/t.safetensors

The twin starts from the trace's initial state dict and takes the trace's batches in their
order, so any difference is arithmetic (model, loss, gradients, optimizer), never data. The
optimizer is written out here as Keras 3 writes it (keras/src/optimizers/adam.py and the
base optimizer's decoupled weight decay), not taken from patchnet:

    p -= p * wd * lr                              (AdamW only)
    m += (g - m) * (1 - b1);  v += (g^2 - v) * (1 - b2)
    p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)          eps 1e-7

Exit status 0 when every loss agrees to --rtol (default 1e-9) and every final tensor to
--atol relative to its largest magnitude, 1 otherwise.
"""

import argparse
import math
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import safetensors_check  # noqa: E402
from convmixer import ConvMixer  # noqa: E402
from involution_net import conv_net, involution_net  # noqa: E402


def build(meta):
    kind = meta["model"]
    if kind == "convmixer":
        m = ConvMixer(width=int(meta["width"]), depth=int(meta["depth"]), kernel=int(meta["kernel"]),
                      patch=int(meta["patch"]), softmax_head=False)  # trained on logits, as Keras does
        return m, torch.nn.functional.cross_entropy
    net = involution_net() if kind == "inv" else conv_net()
    return net, torch.nn.functional.cross_entropy


# Parameters whose exact gradient is zero: a bias directly before BatchNorm (the mean that
# BatchNorm subtracts absorbs it). Each framework's gradient there is rounding residue, which
# Adam's normalisation turns into steps of up to lr in an arbitrary direction, so these
# drift apart; no output in training mode depends on them. Reported, not compared.
def gradient_free(kind, name):
    return kind == "inv" and name.endswith("kernel_gen.0.bias")


def keras_adam(params, state, t, lr, wd, b1=0.9, b2=0.999, eps=1e-7):
    with torch.no_grad():
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        for p in params:
            if wd:
                p -= p * (wd * lr)
            m, v = state.setdefault(p, (torch.zeros_like(p), torch.zeros_like(p)))
            g = p.grad
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            p -= alpha * m / (v.sqrt() + eps)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--rtol", type=float, default=1e-9, help="largest relative loss difference allowed")
    ap.add_argument("--atol", type=float, default=1e-8,
                    help="largest final-tensor difference allowed, relative to the tensor's largest magnitude")
    ap.add_argument("--verbose", action="store_true", help="print every final tensor's difference")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    tensors, meta = safetensors_check.load(args.trace)
    model, loss_fn = build(meta)
    model = model.double()
    init = {k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")}
    model.load_state_dict(init, strict=True)
    model.train()
    lr, wd = float(meta["lr"]), float(meta["weight_decay"])
    images, labels, pn_loss = tensors["images"], tensors["labels"], tensors["loss"]
    steps = images.shape[0]
    params = [p for p in model.parameters()]
    state = {}
    worst_loss = 0.0
    print(f"{meta['model']}: {steps} steps of {images.shape[1]} images, {meta['optimizer']} lr {lr} wd {wd}")
    print(" step  patchnet loss          PyTorch loss           rel. diff")
    for k in range(steps):
        x = images[k].permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), labels[k].long())
        loss.backward()
        keras_adam(params, state, k + 1, lr, wd)
        a, b = float(pn_loss[k]), float(loss)
        rel = abs(a - b) / max(abs(b), 1e-300)
        worst_loss = max(worst_loss, rel)
        if k < 5 or k == steps - 1 or (k + 1) % 10 == 0:
            print(f" {k + 1:4d}  {a:.17f}  {b:.17f}  {rel:.2e}")
    final = {k[len("final."):]: v for k, v in tensors.items() if k.startswith("final.")}
    worst_name, worst_tensor = "", 0.0
    ours = model.state_dict()
    free = []
    for name, want in final.items():
        got = ours[name]
        if gradient_free(meta["model"], name):
            free.append(name)
            continue
        if not torch.is_floating_point(want):
            if not torch.equal(got.to(want.dtype), want):
                worst_name, worst_tensor = name, math.inf
            continue
        scale = max(float(want.abs().max()), 1e-300)
        d = float((got - want).abs().max()) / scale
        if args.verbose:
            print(f"   {name:40s} {d:.2e}")
        if d > worst_tensor:
            worst_name, worst_tensor = name, d
    if free:
        print(f"not compared (a bias directly before BatchNorm: exact gradient 0, Adam steps on rounding "
              f"residue): {', '.join(free)}")
    ok = worst_loss <= args.rtol and worst_tensor <= args.atol
    print(f"largest relative loss difference over {steps} steps: {worst_loss:.2e} (allowed {args.rtol:.0e})")
    print(f"largest final-tensor difference (relative to the tensor's max): {worst_tensor:.2e} in {worst_name} "
          f"over {len(final) - len(free)} tensors (allowed {args.atol:.0e})")
    print("trajectories agree" if ok else "TRAJECTORIES DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
