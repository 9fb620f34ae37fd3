#!/usr/bin/python3
"""PyTorch twins of patchnet's classifiers of the Keras involution example
(include/patchnet/models/involution_net.hpp), with exactly their state_dict keys and shapes:

    InvolutionNet ("inv"):  inv_1 -> relu_1 -> pool_1 -> inv_2 -> relu_2 -> pool_2 -> inv_3 ->
        relu_3 -> flatten -> dense_1 (-> hidden) -> relu_4 -> dense_2 (-> classes)
      inv_k = Involution(channels 3, groups, kernel, stride 1, reduction), whose state is
        kernel_gen = Sequential(0: Conv2d 1x1 C -> C // r, 1: BatchNorm2d, 2: ReLU,
                                3: Conv2d 1x1 C // r -> K*K*G)
      pool_k = MaxPool2d(2) (floor)
    ConvNet ("conv"): conv_1 (3x3 "same" -> 32) -> relu_1 -> pool_1 -> conv_2 (-> 64) ->
        relu_2 -> pool_2 -> conv_3 (-> 64) -> relu_3 -> flatten -> dense_1 -> relu_4 -> dense_2

Both take [N, 3, H, W] images in [0, 1] and return logits. Arguments mirror
models::InvolutionNetConfig (image_size sizes dense_1).

Semantics that follow patchnet (and the Keras seed):
  - Involution (ops/involution.hpp): out[n,c,i,j] = sum_{kh,kw} kernel[n,(kh*K+kw)*G + c%G,i,j]
    * xpad[n, c, i*S+kh-pt, j*S+kw-pl] over TF-"same" windows; groups are INTERLEAVED
    (channel c is in group c % G, the seed's reshape), not the official code's blocks; with
    G = 1 the two agree. The kernel is generated from x (average-pooled by S, "same", when
    S > 1). Computed here with F.unfold.
  - BatchNorm is Keras' (eps 1e-3, decay 0.99, biased variance in the running update).
  - Flatten is in NHWC order (Keras on channels-last data): the twin permutes to NHWC before
    flattening, so dense_1.weight is the plain transpose of patchnet's [in, out] weight.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_padding(size, kernel, stride):
    """TensorFlow "same": (before, after) for one dimension; the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class KerasBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d with Keras' training-time update (patchnet's BatchNorm2d): running =
    momentum * running + (1 - momentum) * batch, momentum the Keras decay (0.99), and the
    biased batch variance for running_var. Same state as nn.BatchNorm2d."""

    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, eps=eps, momentum=1.0 - momentum)
        self.keras_momentum = momentum

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        with torch.no_grad():
            m = self.keras_momentum
            self.running_mean.mul_(m).add_((1.0 - m) * x.mean(dim=(0, 2, 3)))
            self.running_var.mul_(m).add_((1.0 - m) * x.var(dim=(0, 2, 3), unbiased=False))
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


def avg_pool_same(x, s):
    """Keras AveragePooling2D(s, s, "same"): each window divided by its count of real pixels."""
    top, bottom = same_padding(x.shape[2], s, s)
    left, right = same_padding(x.shape[3], s, s)
    pad = (left, right, top, bottom)
    total = F.avg_pool2d(F.pad(x, pad), s, s, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pad), s, s, divisor_override=1)
    return total / count


def involution(x, kernel, K, S, G):
    """x [N, C, H, W], kernel [N, K*K*G, OH, OW] -> [N, C, OH, OW] (interleaved groups)."""
    N, C, H, W = x.shape
    top, bottom = same_padding(H, K, S)
    left, right = same_padding(W, K, S)
    OH, OW = kernel.shape[2], kernel.shape[3]
    patches = F.unfold(F.pad(x, (left, right, top, bottom)), K, stride=S).view(N, C, K * K, OH, OW)
    k = kernel.view(N, K * K, G, OH, OW)[:, :, torch.arange(C, device=x.device) % G]  # [N, K*K, C, OH, OW]
    return (patches * k.transpose(1, 2)).sum(dim=2)


class Involution(nn.Module):
    def __init__(self, channels=3, groups=1, kernel=3, stride=1, reduction=2, bn_momentum=0.99, bn_eps=1e-3):
        super().__init__()
        assert channels % groups == 0 and channels // reduction > 0
        self.K, self.S, self.G = kernel, stride, groups
        hidden = channels // reduction
        self.kernel_gen = nn.Sequential(nn.Conv2d(channels, hidden, 1), KerasBatchNorm2d(hidden, bn_momentum, bn_eps),
                                        nn.ReLU(), nn.Conv2d(hidden, kernel * kernel * groups, 1))

    def forward(self, x):
        src = avg_pool_same(x, self.S) if self.S > 1 else x
        return involution(x, self.kernel_gen(src), self.K, self.S, self.G)


class NHWCFlatten(nn.Module):
    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def involution_net(image_size=32, in_channels=3, num_classes=10, hidden=64, kernel=3, groups=1, reduction=2):
    m, size = nn.Sequential(), image_size
    for k in (1, 2, 3):
        m.add_module(f"inv_{k}", Involution(in_channels, groups, kernel, 1, reduction))
        m.add_module(f"relu_{k}", nn.ReLU())
        if k < 3:
            m.add_module(f"pool_{k}", nn.MaxPool2d(2))
            size //= 2
    m.add_module("flatten", NHWCFlatten())
    m.add_module("dense_1", nn.Linear(size * size * in_channels, hidden))
    m.add_module("relu_4", nn.ReLU())
    m.add_module("dense_2", nn.Linear(hidden, num_classes))
    return m


def conv_net(image_size=32, in_channels=3, num_classes=10, hidden=64, widths=(32, 64, 64), **_unused):
    m, size, cin = nn.Sequential(), image_size, in_channels
    for k, width in zip((1, 2, 3), widths):
        m.add_module(f"conv_{k}", nn.Conv2d(cin, width, 3, padding="same"))  # odd kernel: symmetric = TF "same"
        m.add_module(f"relu_{k}", nn.ReLU())
        if k < 3:
            m.add_module(f"pool_{k}", nn.MaxPool2d(2))
            size //= 2
        cin = width
    m.add_module("flatten", NHWCFlatten())
    m.add_module("dense_1", nn.Linear(size * size * cin, hidden))
    m.add_module("relu_4", nn.ReLU())
    m.add_module("dense_2", nn.Linear(hidden, num_classes))
    return m


if __name__ == "__main__":
    for m in (involution_net(), conv_net()):
        for k, v in m.state_dict().items():
            print(k, list(v.shape))
