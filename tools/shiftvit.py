#!/usr/bin/python3
"""PyTorch twin of patchnet's ShiftViT (include/patchnet/models/shiftvit.hpp; the Keras
ShiftViT example), with exactly its state_dict keys and shapes:

    patch_projection              Conv2d(3 -> dim, kernel = stride = patch, TF "same", bias)
    stages.i.shift_blocks.j       ShiftViTBlock:
                                    x = shift(x); x = x + drop_path(mlp(layer_norm(x)))
        layer_norm                LayerNorm(C, eps 1e-5) over the channels of each pixel
        mlp                       Sequential(0: Linear(C -> int(ratio*C)), 1: GELU (exact),
                                             2: Dropout, 3: Linear(-> C), 4: Dropout)
        drop_path                 stochastic depth, rate linspace(0, drop_path, blocks)[j]
                                  (restarting at 0 in every stage, as the seed's build())
    stages.i.patch_merge          PatchMerging on every stage but the last:
        layer_norm                LayerNorm(C)
        reduction                 Conv2d(C -> 2C, kernel = stride = 2, TF "same", no bias)
    pooling                       global average pool
    classifier                    Linear(C -> classes): logits

It works in NCHW (the layer norms and MLPs permute to channels-last and back). Semantics
that follow patchnet:
  - The channel shift is the official ShiftViT code (microsoft/SPACH): groups of g channels
    move 1 pixel left, right, up, down; vacated pixels are 0; channels [4g, C) pass. The
    group g is C // num_div ("paper", the default) or, with shift_group="keras", the
    seed's tf.split reading C / (C // num_div) (patchnet's shift_group_keras_seed).
  - TensorFlow "same" padding: out = ceil(in / stride), the odd pixel at the bottom / right
    (F.pad before an unpadded convolution).
  - Dropout and drop path masks are drawn by PyTorch here, by patchnet's Philox stream
    there: with rates > 0 the two agree in distribution only.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_padding(size, kernel, stride):
    """TensorFlow "same": (before, after) for one dimension; the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """nn.Conv2d with TensorFlow's "same" padding for any stride (same state as nn.Conv2d)."""

    def forward(self, x):
        top, bottom = same_padding(x.shape[2], self.kernel_size[0], self.stride[0])
        left, right = same_padding(x.shape[3], self.kernel_size[1], self.stride[1])
        return super().forward(F.pad(x, (left, right, top, bottom)))


def channel_shift(x, g, s=1):
    """The official ShiftViT shift on NCHW x (patchnet's ops/channel_shift.hpp)."""
    if g == 0 or s == 0:
        return x
    out = torch.zeros_like(x)
    H, W = x.shape[2], x.shape[3]
    if s < W:
        out[:, 0 * g:1 * g, :, :W - s] = x[:, 0 * g:1 * g, :, s:]  # left
        out[:, 1 * g:2 * g, :, s:] = x[:, 1 * g:2 * g, :, :W - s]  # right
    if s < H:
        out[:, 2 * g:3 * g, :H - s, :] = x[:, 2 * g:3 * g, s:, :]  # up
        out[:, 3 * g:4 * g, s:, :] = x[:, 3 * g:4 * g, :H - s, :]  # down
    out[:, 4 * g:] = x[:, 4 * g:]
    return out


def shift_group(channels, num_div, reading="paper"):
    if reading == "paper":
        g = channels // num_div
        assert 4 * g <= channels, f"{channels} channels with num_div {num_div}: 4 groups of {g} do not fit"
        return g
    splits = channels // num_div
    assert splits >= 4 and channels % splits == 0, f"tf.split cannot cut {channels} channels into {splits}"
    return channels // splits


def drop_path(x, rate, training):
    if rate == 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device) < keep
    return x * mask / keep


class ShiftViTBlock(nn.Module):
    def __init__(self, channels, drop_path_rate, num_div=12, shift=1, mlp_ratio=2.0, mlp_dropout=0.2, eps=1e-5,
                 shift_group_reading="paper"):
        super().__init__()
        self.group = shift_group(channels, num_div, shift_group_reading)
        self.shift = shift
        self.drop_path_rate = drop_path_rate
        hidden = int(mlp_ratio * channels)
        self.layer_norm = nn.LayerNorm(channels, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(channels, hidden), nn.GELU(), nn.Dropout(mlp_dropout),
                                 nn.Linear(hidden, channels), nn.Dropout(mlp_dropout))

    def forward(self, x):
        x = channel_shift(x, self.group, self.shift)
        t = self.mlp(self.layer_norm(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return x + drop_path(t, self.drop_path_rate, self.training)


class PatchMerging(nn.Module):
    def __init__(self, channels, eps=1e-5):
        super().__init__()
        self.layer_norm = nn.LayerNorm(channels, eps=eps)
        self.reduction = Conv2dSame(channels, 2 * channels, kernel_size=2, stride=2, bias=False)

    def forward(self, x):
        return self.reduction(self.layer_norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2))


class StackedShiftBlocks(nn.Module):
    def __init__(self, channels, blocks, merge, **kw):
        super().__init__()
        rate = kw.pop("drop_path")
        rates = [rate * j / (blocks - 1) if blocks > 1 else 0.0 for j in range(blocks)]  # np.linspace(0, rate, n)
        self.shift_blocks = nn.Sequential(*[ShiftViTBlock(channels, r, **kw) for r in rates])
        self.patch_merge = PatchMerging(channels, kw["eps"]) if merge else None

    def forward(self, x):
        x = self.shift_blocks(x)
        return self.patch_merge(x) if self.patch_merge is not None else x


class ShiftViT(nn.Module):
    """Arguments mirror models::ShiftViTConfig (shift_group: "paper" or "keras")."""

    def __init__(self, in_channels=3, num_classes=10, patch=4, dim=96, depths=(2, 4, 8, 2), num_div=12, shift=1,
                 mlp_ratio=2.0, mlp_dropout=0.2, drop_path=0.2, eps=1e-5, shift_group="paper"):
        super().__init__()
        self.patch_projection = Conv2dSame(in_channels, dim, kernel_size=patch, stride=patch)
        stages, C = [], dim
        for i, blocks in enumerate(depths):
            merge = i + 1 < len(depths)
            stages.append(StackedShiftBlocks(C, blocks, merge, num_div=num_div, shift=shift, mlp_ratio=mlp_ratio,
                                             mlp_dropout=mlp_dropout, drop_path=drop_path, eps=eps,
                                             shift_group_reading=shift_group))
            if merge:
                C *= 2
        self.stages = nn.Sequential(*stages)
        self.classifier = nn.Linear(C, num_classes)

    def forward(self, x):
        """x: [N, 3, H, W] in [0, 1]; returns logits [N, classes]."""
        x = self.stages(self.patch_projection(x))
        return self.classifier(x.mean(dim=(2, 3)))


if __name__ == "__main__":
    m = ShiftViT()
    for k, v in m.state_dict().items():
        print(k, list(v.shape))
    print(sum(p.numel() for p in m.parameters()), "parameters")
