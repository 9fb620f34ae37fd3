#!/usr/bin/python3
"""Writes tests/golden/train_<model>.safetensors: one training step of each model, computed
by its PyTorch twin (tools/convmixer.py, tools/shiftvit.py, tools/involution_net.py) in
float64, for tests/unit/train_golden_test.cpp ("golden step: <model>").

Regenerate from the repository root with Debian's python3-torch (torch 1.13, CPU):

    /usr/bin/python3 tests/golden/make_train_golden.py

The output is deterministic (seeded torch generators, one thread; files written by
tools/safetensors_check.py's save(), byte for byte what patchnet writes): running it twice
gives identical files.

Each file holds, for a SMALL configuration of the model (dropout and drop path 0, as masks
cannot agree between frameworks):
  - the initial state dict under PyTorch's names and layouts, exactly the keys of the C++
    model's named_parameters(), named_buffers() and counters: float tensors as F32 (the
    twin is initialised by torch's defaults in float32, norms and running statistics
    randomised, then converted to float64, so F32 holds them exactly),
    num_batches_tracked as I64;
  - "input": the batch, F32, NHWC [N, H, W, 3] (ConvMixer: raw pixel values 0..255, its
    model rescales; the others: [0, 1]); "labels": I64 [N];
  - golden values in F64, computed in training mode:
      golden.output              probabilities (ConvMixer's softmax head) or logits [N, classes]
      golden.loss                [] cross_entropy_from_probs (ConvMixer) or cross_entropy
      golden.grad.<param>        the gradient of a few parameters (PyTorch layout)
      golden.after.<param>       every parameter after one optimizer step (PyTorch layout)
      golden.running_mean.<bn>   BatchNorm running means after the step, and
      golden.running_var.<bn>    running variances (Keras update: biased batch variance,
                                 which the twins' KerasBatchNorm2d implements)
  - metadata: the model tag and configuration (the C++ config's field names), the
    optimizer ("AdamW" = torch.optim.AdamW, "Adam" = torch.optim.Adam, PyTorch defaults
    otherwise), lr and weight_decay, and the layout of "input".
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tools

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import safetensors_check  # noqa: E402  (tools/, dependency-free safetensors reader/writer)
from convmixer import ConvMixer, cross_entropy_from_probs  # noqa: E402
from involution_net import conv_net, involution_net  # noqa: E402
from shiftvit import ShiftViT  # noqa: E402

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
LR = 1e-3

# Small configurations, chosen for edge cases:
#  convmixer: 15x15 images, patch 2 "valid" drops the last row / column -> 7x7 maps (odd),
#             depthwise kernel 5 "same" on 7x7; softmax head, raw pixels.
#  shiftvit:  23x23 images, patch 4 "same" (ceil -> 6x6, the odd padding pixel at the bottom /
#             right), then 6 -> 3 -> 2 ("same" merge of an odd map) -> 1; dim 4 with num_div 5:
#             shift groups g = C // 5 = 0, 1, 3, 6 at C = 4, 8, 16, 32 (no shift at all, then
#             shifted and unshifted channels mixed; at 1x1 every shifted channel becomes 0).
#             The widths are small because four stages multiply the channels by 8.
#  inv:       9x9 images: the involution layers on 9, 4 and 2 pixel maps, pools dropping odd
#             rows; the seed's C 3, G 1, K 3, r 2 (one reduced channel: BatchNorm of 1 channel).
#  conv:      8x8 images, widths 8-16-16 instead of the seed's 32-64-64 (same code path,
#             a twentieth of the file).
CONFIGS = {
    "convmixer": dict(model=dict(width=16, depth=2, kernel=5, patch=2, num_classes=10), n=4, hw=(15, 15),
                      optimizer="AdamW", weight_decay=1e-2, seed=1001,
                      grads=["stem.0.weight", "stem.2.weight", "blocks.0.0.fn.0.weight", "blocks.0.0.fn.2.bias",
                             "blocks.1.1.weight", "blocks.1.3.weight", "head.weight", "head.bias"]),
    "shiftvit": dict(model=dict(dim=4, patch=4, depths=[1, 1, 1, 1], num_div=5, shift=1, mlp_ratio=2.0,
                                num_classes=10),
                     n=4, hw=(23, 23), optimizer="AdamW", weight_decay=1e-4, seed=1002,
                     grads=["patch_projection.weight", "patch_projection.bias", "stages.0.shift_blocks.0.layer_norm.weight",
                            "stages.1.shift_blocks.0.mlp.0.weight", "stages.1.patch_merge.reduction.weight",
                            "stages.2.shift_blocks.0.mlp.3.bias", "stages.2.patch_merge.layer_norm.bias",
                            "stages.3.shift_blocks.0.mlp.0.bias", "classifier.bias"]),
    "inv": dict(model=dict(image_size=9, hidden=16, kernel=3, groups=1, reduction=2, num_classes=10), n=4,
                hw=(9, 9), optimizer="Adam", weight_decay=0.0, seed=1003,
                grads=["inv_1.kernel_gen.0.weight", "inv_1.kernel_gen.1.weight", "inv_1.kernel_gen.1.bias",
                       "inv_1.kernel_gen.3.weight", "inv_2.kernel_gen.3.bias", "inv_3.kernel_gen.0.weight",
                       "dense_1.weight", "dense_2.bias"]),
    "conv": dict(model=dict(image_size=8, hidden=16, num_classes=10, widths=[8, 16, 16]), n=4, hw=(8, 8), optimizer="Adam",
                 weight_decay=0.0, seed=1004,
                 grads=["conv_1.weight", "conv_1.bias", "conv_3.bias", "dense_1.weight", "dense_2.weight"]),
}


def build(name, cfg):
    m = cfg["model"]
    if name == "convmixer":
        return ConvMixer(**m), "convmixer"
    if name == "shiftvit":
        return ShiftViT(**m, mlp_dropout=0.0, drop_path=0.0), "shiftvit"
    if name == "inv":
        return involution_net(**m), "involution-net"
    return conv_net(**m), "conv-net"


def randomise_norms(model, gen):
    """Norm affine parameters and running statistics away from their trivial defaults, in
    float32 (the model is converted to float64 afterwards)."""
    def u(t, lo, hi):
        with torch.no_grad():
            t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)
    for mod in model.modules():
        if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
            u(mod.weight, 0.5, 1.5)
            u(mod.bias, -0.3, 0.3)
        if isinstance(mod, torch.nn.BatchNorm2d):
            u(mod.running_mean, -0.5, 0.5)
            u(mod.running_var, 0.5, 1.5)
            mod.num_batches_tracked.fill_(7)


def make(name, cfg):
    torch.manual_seed(cfg["seed"])  # torch's default initialisers
    gen = torch.Generator().manual_seed(cfg["seed"])
    model, tag = build(name, cfg)
    randomise_norms(model, gen)
    initial = {k: v.clone() for k, v in model.state_dict().items()}  # float32 (and int64 counters)
    model = model.double().train()

    n, (h, w) = cfg["n"], cfg["hw"]
    if name == "convmixer":
        x = torch.randint(0, 256, (n, h, w, 3), generator=gen).float()
    else:
        x = torch.rand((n, h, w, 3), generator=gen)  # float32 values
    num_classes = cfg["model"]["num_classes"]
    labels = torch.randperm(num_classes, generator=gen)[:n]  # distinct labels

    out = model(x.double().permute(0, 3, 1, 2))
    loss = cross_entropy_from_probs(out, labels) if name == "convmixer" else torch.nn.functional.cross_entropy(
        out, labels)
    params = dict(model.named_parameters())
    opt_cls = torch.optim.AdamW if cfg["optimizer"] == "AdamW" else torch.optim.Adam
    opt_kw = dict(lr=LR, weight_decay=cfg["weight_decay"]) if cfg["optimizer"] == "AdamW" else dict(lr=LR)
    opt = opt_cls(params.values(), **opt_kw)
    opt.zero_grad()
    loss.backward()
    grads = {k: params[k].grad.detach().clone() for k in cfg["grads"]}
    opt.step()

    tensors = dict(initial)
    tensors["input"] = x
    tensors["labels"] = labels.long()
    tensors["golden.output"] = out.detach()
    tensors["golden.loss"] = loss.detach()
    for k, g in grads.items():
        tensors[f"golden.grad.{k}"] = g
    for k, p in params.items():
        tensors[f"golden.after.{k}"] = p.detach()
    for mod_name, mod in model.named_modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            tensors[f"golden.running_mean.{mod_name}"] = mod.running_mean.detach()
            tensors[f"golden.running_var.{mod_name}"] = mod.running_var.detach()
    for k, t in tensors.items():
        if k.startswith("golden."):
            assert t.dtype == torch.float64, k
    meta = {"model": tag, "optimizer": cfg["optimizer"], "lr": repr(LR), "weight_decay": repr(cfg["weight_decay"]),
            "input_layout": "NHWC", "producer": "tests/golden/make_train_golden.py",
            "torch": torch.__version__.split("+")[0]}
    for k, v in cfg["model"].items():
        meta[k] = ",".join(str(d) for d in v) if isinstance(v, list) else str(v)
    path = os.path.join(OUT_DIR, f"train_{name}.safetensors")
    safetensors_check.save(path, tensors, meta)
    back, back_meta = safetensors_check.load(path)
    assert back_meta == meta and list(back) == list(tensors)
    return path, loss.item(), sum(p.numel() for p in params.values())


def main():
    torch.set_num_threads(1)
    total = 0
    for name, cfg in CONFIGS.items():
        path, loss, nparams = make(name, cfg)
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {size} bytes ({nparams} parameters, loss {loss:.6f})")
    print(f"total {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
