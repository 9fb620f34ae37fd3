#!/usr/bin/env python3
"""PyTorch timings of the ops patchnet_bench measures, at the same shapes, for
side-by-side tables in docs/performance.md.

    /usr/bin/python3 bench/pytorch_ops.py --device cpu     # Debian's python3-torch here
    python3 bench/pytorch_ops.py --device cuda             # on the GPU machine

Activations are NHWC in patchnet; here convolutions and pooling run in PyTorch's
channels_last memory format (the same bytes in memory), elementwise ops on plain
tensors. Each row times the forward (under no_grad) and forward+backward (sum of the
output, then backward), median of repeated runs after warm-up; CUDA timings use events.
"""
import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F


def timer(device):
    if device == "cuda":
        def run(fn, reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            times = []
            for _ in range(reps):
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end) * 1e3)
            return statistics.median(times)
    else:
        def run(fn, reps):
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1e6)
            return statistics.median(times)
    return run


def nchw_cl(shape_nhwc, device, grad=False):
    n, h, w, c = shape_nhwc
    x = torch.rand(n, c, h, w, device=device) * 2 - 1
    x = x.contiguous(memory_format=torch.channels_last)
    return x.requires_grad_(grad)


def cases(device):
    def t(*shape, grad=False):
        return (torch.rand(*shape, device=device) * 2 - 1).requires_grad_(grad)

    N, H, W, C, K = 128, 16, 16, 256, 5
    dw_w = t(C, 1, K, K)
    yield "add_residual", lambda g: (t(N, H, W, C, grad=g), t(N, H, W, C, grad=g)), lambda a, b: a + b
    yield "linear_pointwise", lambda g: (t(N * H * W, C, grad=g), t(C, C, grad=g), t(C, grad=g)), F.linear
    yield "depthwise_5x5_convmixer", lambda g: (nchw_cl((N, H, W, C), device, g), dw_w.detach().requires_grad_(g)), \
        lambda x, w: F.conv2d(x, w, padding=K // 2, groups=C)
    yield "conv_stem_patch2", lambda g: (nchw_cl((N, 32, 32, 3), device, g), t(C, 3, 2, 2, grad=g)), \
        lambda x, w: F.conv2d(x, w, stride=2)
    yield "batch_norm_train_convmixer", lambda g: (nchw_cl((N, H, W, C), device, g), t(C, grad=g), t(C, grad=g)), \
        lambda x, gm, bt: F.batch_norm(x, torch.zeros(C, device=device), torch.ones(C, device=device), gm, bt,
                                       training=True, momentum=0.01, eps=1e-3)
    yield "gelu_convmixer", lambda g: (t(N, H, W, C, grad=g),), F.gelu
    yield "layer_norm_shiftvit", lambda g: (t(256, 12, 12, 96, grad=g), t(96, grad=g), t(96, grad=g)), \
        lambda x, gm, bt: F.layer_norm(x, (96,), gm, bt, 1e-5)
    yield "max_pool_2x2_conv_baseline", lambda g: (nchw_cl((256, 32, 32, 32), device, g),), \
        lambda x: F.max_pool2d(x, 2)
    yield "conv3x3_same_baseline", lambda g: (nchw_cl((256, 32, 32, 3), device, g), t(32, 3, 3, 3, grad=g)), \
        lambda x, w: F.conv2d(x, w, padding=1)

    def involution(x, kern):  # the unfold form PyTorch implementations use
        n, c, h, w = x.shape
        patches = F.unfold(x, 3, padding=1).view(n, c, 9, h, w)
        return (patches * kern.view(n, 1, 9, h, w)).sum(2)
    yield "involution_3x3_seed_layer1", lambda g: (t(256, 3, 32, 32, grad=g), t(256, 9, 32, 32, grad=g)), involution

    def shift(x, g=8):  # the official ShiftViT code, NCHW
        out = torch.zeros_like(x)
        out[:, 0 * g:1 * g, :, :-1] = x[:, 0 * g:1 * g, :, 1:]
        out[:, 1 * g:2 * g, :, 1:] = x[:, 1 * g:2 * g, :, :-1]
        out[:, 2 * g:3 * g, :-1, :] = x[:, 2 * g:3 * g, 1:, :]
        out[:, 3 * g:4 * g, 1:, :] = x[:, 3 * g:4 * g, :-1, :]
        out[:, 4 * g:, :, :] = x[:, 4 * g:, :, :]
        return out
    yield "channel_shift_shiftvit_g8", lambda g: (t(256, 96, 12, 12, grad=g),), shift


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--filter", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (default: all cores)")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    run = timer(args.device)
    print(f"torch {torch.__version__}, device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else f", {torch.get_num_threads()} threads"))
    print(f"{'op':34s} {'fwd us':>12s} {'fwd+bwd us':>12s}")
    for name, make, fn in cases(args.device):
        if args.filter not in name:
            continue
        with torch.no_grad():
            xs = make(False)
            fwd = lambda: fn(*xs)
            fwd()
            t_fwd = run(fwd, args.reps)
        xg = make(True)

        def fwd_bwd():
            for x in xg:
                x.grad = None
            fn(*xg).sum().backward()
        fwd_bwd()
        t_bwd = run(fwd_bwd, args.reps)
        print(f"{name:34s} {t_fwd:12.1f} {t_bwd:12.1f}")


if __name__ == "__main__":
    main()
