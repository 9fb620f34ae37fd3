#!/usr/bin/env python3
"""PyTorch's time for the run examples/convmixer_cifar10 makes with --device cuda: the
ConvMixer seed's settings (ConvMixer-256/8, kernel 5, patch 2, Rescaling(1/255), softmax
head with sparse categorical cross entropy, AdamW lr 1e-3 wd 1e-4 in Keras 3's convention,
batch 128, 10 epochs, 45,000 training images with the first 5,000 held out for
validation, random horizontal flips), on the same GPU, for docs/performance.md.

    python3 bench/pytorch_convmixer.py --data /tmp/cifar10            # on the GPU machine
    python3 bench/pytorch_convmixer.py --data /tmp/cifar10 --channels-last --tf32

The model is tools/convmixer.py (the same module tree, Keras BatchNorm, exact GELU). The
whole data set is put on the GPU once and the flips are done there, which is the fastest
plain-PyTorch input path (patchnet prepares batches on a CPU thread). TF32 is off unless
--tf32, as in patchnet's default. Prints one line per epoch like the patchnet example,
the test accuracy of the best-on-validation epoch, and the wall time of the training.
"""
import argparse
import copy
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from convmixer import ConvMixer, cross_entropy_from_probs  # noqa: E402


def read_split(folder, files):
    recs = []
    for name in files:
        raw = np.fromfile(os.path.join(folder, "cifar-10-batches-bin", name), dtype=np.uint8)
        recs.append(raw.reshape(-1, 3073))
    recs = np.concatenate(recs)
    labels = recs[:, 0].astype(np.int64)
    images = recs[:, 1:].reshape(-1, 3, 32, 32)  # planes R, G, B: NCHW
    return torch.from_numpy(images.copy()), torch.from_numpy(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder holding cifar-10-batches-bin/")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true", help="NHWC memory format (patchnet's layout)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 matrix products and convolutions")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke test of this script")
    ap.add_argument("--val-size", type=int, default=5000, help="training images held out for validation")
    ap.add_argument("--train-limit", type=int, default=0, help="use the first N training images (smoke tests)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format

    train_x, train_y = read_split(args.data, [f"data_batch_{i}.bin" for i in range(1, 6)])
    test_x, test_y = read_split(args.data, ["test_batch.bin"])
    v = args.val_size  # the seed's split: the first 5,000 held out
    val_x, val_y = train_x[:v], train_y[:v]
    train_x, train_y = train_x[v:], train_y[v:]
    if args.train_limit:
        train_x, train_y = train_x[:args.train_limit], train_y[:args.train_limit]
    to = lambda t: t.to(dev, non_blocking=False)
    train_x, train_y, val_x, val_y, test_x, test_y = map(to, (train_x, train_y, val_x, val_y, test_x, test_y))

    model = ConvMixer(width=args.width, depth=args.depth, kernel=5, patch=2, num_classes=10).to(dev)
    model = model.to(memory_format=fmt)
    # Keras 3 AdamW: decoupled decay scaled by lr (torch's convention), epsilon 1e-7.
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, eps=1e-7)
    step_model = torch.compile(model) if args.compile else model

    def batches(x, y, shuffle, gen=None):
        n = x.shape[0]
        order = torch.randperm(n, device=dev, generator=gen) if shuffle else torch.arange(n, device=dev)
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            yield x[idx], y[idx]

    def evaluate(m, x, y):
        m.eval()
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for xb, yb in batches(x, y, False):
                probs = m(xb.float().contiguous(memory_format=fmt))
                loss_sum += float(cross_entropy_from_probs(probs, yb)) * xb.shape[0]
                correct += int((probs.argmax(1) == yb).sum())
        m.train()
        return loss_sum / x.shape[0], correct / x.shape[0]

    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    best_acc, best_state, best_epoch = -1.0, None, 0
    where = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {where}: ConvMixer-{args.width}/{args.depth}, "
          f"{args.epochs} epochs, batch {args.batch_size}, channels_last={args.channels_last}, tf32={args.tf32}, "
          f"compile={args.compile}", flush=True)
    sync()
    t_start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.int64)
        for xb, yb in batches(train_x, train_y, True, gen):
            flip = torch.rand(xb.shape[0], device=dev, generator=gen) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(3), xb).float().contiguous(memory_format=fmt)
            probs = step_model(xb)
            loss = cross_entropy_from_probs(probs, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * xb.shape[0]
            correct += (probs.detach().argmax(1) == yb).sum()
        sync()
        seconds = time.perf_counter() - t0
        n = train_x.shape[0]
        val_loss, val_acc = evaluate(model, val_x, val_y)
        print(f"epoch {epoch}/{args.epochs}: loss {float(loss_sum) / n:.4f}, acc {int(correct) / n:.4f}, "
              f"val_loss {val_loss:.4f}, val_acc {val_acc:.4f}, {seconds:.1f} s, {n / seconds:.0f} img/s", flush=True)
        if val_acc > best_acc:
            best_acc, best_epoch = val_acc, epoch
            best_state = copy.deepcopy(model.state_dict())
    sync()
    wall = time.perf_counter() - t_start
    model.load_state_dict(best_state)
    test_loss, test_acc = evaluate(model, test_x, test_y)
    print(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}) of epoch {best_epoch}; "
          f"training wall time {wall:.1f} s including validation", flush=True)


if __name__ == "__main__":
    main()
