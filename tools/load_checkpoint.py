#!/usr/bin/python3
"""Loads a patchnet checkpoint into the PyTorch twin of its model, and optionally scores it
on the CIFAR-10 test set in PyTorch.

    tools/load_checkpoint.py CKPT [--model convmixer|shiftvit|inv|conv] [size flags]
                             [--data DIR] [--limit N] [--batch-size B]

CKPT is a file written by the example programs (best.safetensors: the model; last.safetensors:
the model, the optimizer state and the training state). The state dict is stored under
PyTorch's names and layouts; the "optimizer." entries are dropped and the rest goes through
load_state_dict(strict=True), so every tensor must be there with the twin's shape.

The model kind and its sizes come from the checkpoint's metadata (the "model" tag and the
configuration the examples record); flags override them, and fill in what the metadata does
not record (ShiftViT's --mlp-ratio, the involution networks' --image-size and --hidden).

--data DIR (the folder of the CIFAR-10 binary files, or its parent holding
cifar-10-batches-bin/) evaluates top-1 accuracy on test_batch.bin in eval mode, with the
examples' evaluation input: ConvMixer raw pixels 0..255 (the model rescales), ShiftViT
resized bilinearly 32 -> size + 4 -> size (--image-size, default 48) and scaled to [0, 1],
the involution networks scaled to [0, 1] (ShiftViT's size: --image-size, else the metadata's
image_size, else 48).

The twins are tools/convmixer.py, tools/shiftvit.py and tools/involution_net.py; the
safetensors reader is tools/safetensors_check.py (no `safetensors` package needed).
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors_check  # noqa: E402
from convmixer import ConvMixer  # noqa: E402
from involution_net import conv_net, involution_net  # noqa: E402
from shiftvit import ShiftViT  # noqa: E402

MODELS = ("convmixer", "shiftvit", "inv", "conv")


def model_from_tag(tag):
    """The --model of a checkpoint's "model" metadata (what the example programs write)."""
    if tag.startswith("convmixer"):
        return "convmixer"
    return {"shiftvit": "shiftvit", "involution-net": "inv", "conv-net": "conv"}.get(tag)


def pick(args, meta, flag, key, default, kind=int):
    """A flag if given, else the metadata's value, else the C++ default."""
    value = getattr(args, flag)
    if value is not None:
        return value
    if key in meta:
        return kind(meta[key])
    return default


def build(kind, args, meta):
    classes = pick(args, meta, "num_classes", "num_classes", 10)
    if kind == "convmixer":
        cfg = dict(width=pick(args, meta, "width", "width", 256), depth=pick(args, meta, "depth", "depth", 8),
                   kernel=pick(args, meta, "kernel", "kernel", 5), patch=pick(args, meta, "patch", "patch", 2),
                   num_classes=classes)
        return ConvMixer(**cfg), cfg
    if kind == "shiftvit":
        stages = args.stages or meta.get("stages") or meta.get("depths") or "2,4,8,2"
        cfg = dict(dim=pick(args, meta, "dim", "dim", 96), patch=pick(args, meta, "patch", "patch", 4),
                   depths=[int(s) for s in stages.split(",")], num_div=pick(args, meta, "num_div", "num_div", 12),
                   shift=pick(args, meta, "shift", "shift", 1),
                   mlp_ratio=pick(args, meta, "mlp_ratio", "mlp_ratio", 2.0, float),
                   eps=pick(args, meta, "eps", "eps", 1e-5, float),
                   shift_group=pick(args, meta, "shift_group", "shift_group", "paper", str), num_classes=classes)
        return ShiftViT(**cfg), cfg
    cfg = dict(image_size=pick(args, meta, "image_size", "image_size", 32),
               hidden=pick(args, meta, "hidden", "hidden", 64), num_classes=classes)
    if kind == "inv":
        cfg.update(kernel=pick(args, meta, "kernel", "kernel", 3), groups=pick(args, meta, "groups", "groups", 1),
                   reduction=pick(args, meta, "reduction", "reduction", 2))
        return involution_net(**cfg), cfg
    return conv_net(**cfg), cfg


def read_cifar10(folder, files):
    """(images uint8 [N, 32, 32, 3], labels int64 [N]) from the CIFAR-10 binary files named
    (in folder or folder/cifar-10-batches-bin), in order."""
    d = folder if os.path.isfile(os.path.join(folder, files[0])) else os.path.join(folder, "cifar-10-batches-bin")
    parts = []
    for name in files:
        path = os.path.join(d, name)
        if not os.path.isfile(path):
            sys.exit(f"{os.path.basename(sys.argv[0])}: no {name} in {folder} or {folder}/cifar-10-batches-bin "
                     "(tools/download_cifar10.sh fetches it)")
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % 3073:
            sys.exit(f"{os.path.basename(sys.argv[0])}: {path} is {raw.size} bytes, not a whole number of 3073-byte "
                     "records")
        parts.append(raw.reshape(-1, 3073))
    raw = np.concatenate(parts)
    images = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), raw[:, 0].astype(np.int64)


def read_cifar10_test(folder):
    """(images uint8 [N, 32, 32, 3], labels int64 [N]) from test_batch.bin."""
    return read_cifar10(folder, ["test_batch.bin"])


def preprocess(kind, images, image_size):
    """uint8 NHWC -> the model's NCHW float32 input, as the examples evaluate."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    if kind == "convmixer":
        return x  # raw pixels: the model's first layer rescales
    if kind == "shiftvit":  # Resizing(size + 4), then RandomCrop's inference resize to size
        x = F.interpolate(x, size=(image_size + 4, image_size + 4), mode="bilinear", align_corners=False)
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return x * (1.0 / 255.0)


def evaluate(kind, model, folder, image_size, limit, batch_size):
    images, labels = read_cifar10_test(folder)
    if limit:
        images, labels = images[:limit], labels[:limit]
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch_size):
            out = model(preprocess(kind, images[i:i + batch_size], image_size))
            correct += int((out.argmax(dim=1) == torch.from_numpy(labels[i:i + batch_size])).sum())
    return correct, len(labels)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--model", choices=MODELS, help="default: from the checkpoint's 'model' metadata")
    ap.add_argument("--num-classes", dest="num_classes", type=int)
    g = ap.add_argument_group("convmixer")
    g.add_argument("--width", type=int)
    g.add_argument("--depth", type=int)
    g.add_argument("--kernel", type=int, help="convmixer: depthwise kernel; inv: involution kernel")
    g.add_argument("--patch", type=int, help="patch size (convmixer 2, shiftvit 4)")
    g = ap.add_argument_group("shiftvit")
    g.add_argument("--dim", type=int)
    g.add_argument("--stages", help="blocks per stage, like 2,4,8,2")
    g.add_argument("--num-div", dest="num_div", type=int)
    g.add_argument("--shift", type=int)
    g.add_argument("--mlp-ratio", dest="mlp_ratio", type=float)
    g.add_argument("--eps", type=float)
    g.add_argument("--shift-group", dest="shift_group", choices=("paper", "keras"))
    g = ap.add_argument_group("inv / conv")
    g.add_argument("--image-size", dest="image_size", type=int,
                   help="inv/conv: input size that sizes dense_1 (32); shiftvit: evaluation size (48)")
    g.add_argument("--hidden", type=int)
    g.add_argument("--groups", type=int)
    g.add_argument("--reduction", type=int)
    g = ap.add_argument_group("evaluation")
    g.add_argument("--data", help="CIFAR-10 binary folder: evaluate test accuracy in PyTorch")
    g.add_argument("--limit", type=int, default=0, help="evaluate the first N test images only")
    g.add_argument("--batch-size", dest="batch_size", type=int, default=500)
    args = ap.parse_args(argv)

    tensors, meta = safetensors_check.load(args.checkpoint)
    kind = args.model or model_from_tag(meta.get("model", ""))
    if kind is None:
        ap.error(f"the checkpoint's metadata names no model I know ({meta.get('model')!r}); pass --model")
    print(f"{args.checkpoint}: metadata")
    for k in sorted(meta):
        v = meta[k].replace("\n", " | ")
        print(f"  {k}: {v if len(v) <= 120 else v[:117] + '...'}")

    shiftvit_eval_size = None
    if kind == "shiftvit":  # --image-size is the evaluation size here, not a model size
        shiftvit_eval_size = args.image_size or int(meta.get("image_size", 48))
        args.image_size = None
    model, cfg = build(kind, args, meta)
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    dropped = len(tensors) - len(state)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        sys.exit(f"load_checkpoint.py: {args.checkpoint} does not fit {kind} {cfg}:\n{e}\n"
                 "(give the model's size flags where the metadata lacks them)")
    print(f"model {kind} {cfg}")
    print(f"loaded {len(state)} tensors ({dropped} optimizer tensors dropped)")

    if args.data:
        correct, n = evaluate(kind, model, args.data, shiftvit_eval_size, args.limit, args.batch_size)
        print(f"test accuracy {correct}/{n} = {correct / n:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
