#!/usr/bin/python3
"""Trains the PyTorch twin of the involution network or of its conv baseline through the
Keras example's whole protocol, from patchnet's initial weights for a seed, on the same
CIFAR-10 files: the check of docs/results.md that separates a shortfall of patchnet from one
of the data or the protocol.

    build-cpu/tools/trace/trace --model inv --data .data/cifar10 --seed 42 --steps 1 --out /tmp/init42.safetensors
    /usr/bin/python3 tools/twin_train.py /tmp/init42.safetensors --data .data/cifar10 > stdout.log

The protocol is the example's and examples/involution_cifar10.cpp's: pixels scaled to
[0, 1], all 50,000 training images in batches of 256 (the partial last batch kept), a full
shuffle every epoch, Keras Adam (lr 1e-3, eps 1e-7 outside the bias correction; written out
in trace_check.py), cross entropy on the logits, Keras BatchNorm (in the twin), the test set
as validation after every epoch, the training accuracy and loss as sample-weighted running
means (Keras' metrics). The weights start as patchnet's (the trace's init.* tensors, seed
included); the batch order is torch's generator seeded with the trace's seed, not
patchnet's order. Prints the example programs' per-epoch lines and, at the end, the test
accuracy of the final weights, so tools/results_table.py reads the output as a run.
"""

import argparse
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import safetensors_check  # noqa: E402
from involution_net import conv_net, involution_net  # noqa: E402
from load_checkpoint import read_cifar10, read_cifar10_test  # noqa: E402
from trace_check import keras_adam  # noqa: E402


def to_input(images):
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().mul_(1.0 / 255.0).contiguous()


def evaluate(model, x, y, batch):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i:i + batch])
            loss += float(F.cross_entropy(out, y[i:i + batch], reduction="sum"))
            correct += int((out.argmax(dim=1) == y[i:i + batch]).sum())
    model.train()
    return loss / len(y), correct / len(y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("init", help="a trace of tools/trace/trace (--model inv or conv): its init.* tensors and seed")
    ap.add_argument("--data", required=True, help="CIFAR-10 binary folder (or its parent)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    tensors, meta = safetensors_check.load(args.init)
    kind = meta["model"]
    if kind not in ("inv", "conv"):
        sys.exit(f"twin_train.py: {args.init} traces '{kind}'; this script trains inv or conv")
    model = involution_net() if kind == "inv" else conv_net()
    init = {k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")}
    model.load_state_dict({k: (v.float() if torch.is_floating_point(v) else v) for k, v in init.items()}, strict=True)
    seed = int(meta["seed"])
    gen = torch.Generator().manual_seed(seed)

    train_images, train_labels = read_cifar10(args.data, [f"data_batch_{k}.bin" for k in range(1, 6)])
    test_images, test_labels = read_cifar10_test(args.data)
    x, y = to_input(train_images), torch.from_numpy(train_labels)
    xt, yt = to_input(test_images), torch.from_numpy(test_labels)
    n, b = len(y), args.batch_size
    steps = (n + b - 1) // b
    print(f"PyTorch {torch.__version__} twin of '{kind}', patchnet's initial weights of seed {seed} ({args.init})")
    print(f"data: {n} training, {len(yt)} test images; {steps} steps per epoch")
    params = list(model.parameters())
    state, t = {}, 0
    model.train()
    for epoch in range(1, args.epochs + 1):
        start = time.time()
        order = torch.randperm(n, generator=gen)
        seen, loss_sum, correct = 0, 0.0, 0
        for s in range(steps):
            idx = order[s * b:(s + 1) * b]
            xb, yb = x[idx], y[idx]
            model.zero_grad(set_to_none=True)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            loss.backward()
            t += 1
            keras_adam(params, state, t, args.lr, 0.0)
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
            correct += int((out.detach().argmax(dim=1) == yb).sum())
        seconds = time.time() - start
        val_loss, val_acc = evaluate(model, xt, yt, 1000)
        print(f"epoch {epoch}/{args.epochs}  loss {loss_sum / seen:.4f}  acc {correct / seen:.4f}  "
              f"val_loss {val_loss:.4f}  val_acc {val_acc:.4f}  lr {args.lr:g}  {n / seconds:.0f} img/s  {seconds:.1f} s",
              flush=True)
    print(f"test loss: {val_loss:.4f}")
    print(f"test accuracy: {100 * val_acc:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
