#!/usr/bin/python3
"""PyTorch twin of patchnet's ConvMixer (include/patchnet/models/convmixer.hpp).

The module tree, and so the state_dict keys and shapes, are those of timm's ConvMixer,
which is what patchnet's named_parameters() / named_buffers() / counters give:

    rescale   x * (1/255)                      (no state; the seed's Rescaling layer)
    stem      Sequential(0: Conv2d(3 -> width, kernel = stride = patch, no padding),
                         1: GELU, 2: BatchNorm2d)
    blocks.i  Sequential(0: Residual(fn: Sequential(0: Conv2d(width, width, kernel,
                                                         groups = width, "same"),
                                                    1: GELU, 2: BatchNorm2d)),
                         1: Conv2d(width -> width, 1x1), 2: GELU, 3: BatchNorm2d)
    pooling   global average pool
    head      Linear(width -> classes)
    softmax   over classes (the seed's Dense(activation="softmax")); trained with
              cross_entropy_from_probs() below (Keras' sparse_categorical_crossentropy)

It works in NCHW, as PyTorch does; a patchnet checkpoint (PyTorch layouts, see
include/patchnet/train/checkpoint.hpp) loads into it with load_state_dict(strict=True) once
the "optimizer." entries are dropped (tools/load_checkpoint.py).

Semantics that follow patchnet (and the Keras seed) rather than PyTorch's defaults:
  - BatchNorm is Keras': eps 1e-3, running = 0.99 * running + 0.01 * batch (PyTorch
    momentum 0.01), and in training the running variance takes the BIASED batch variance
    (KerasBatchNorm2d below; nn.BatchNorm2d would use the unbiased one).
  - GELU is the exact (erf) form.
  - "same" padding puts an odd pixel at the bottom / right (TensorFlow); for the stride-1
    depthwise convolution this is also what PyTorch's padding="same" does.
With rescale=False / softmax_head=False the model takes [0, 1] inputs / returns logits, as
ConvMixerConfig's flags of the same names.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class KerasBatchNorm2d(nn.BatchNorm2d):
    """nn.BatchNorm2d with Keras' training-time update (patchnet's BatchNorm2d):
    running = momentum * running + (1 - momentum) * batch with momentum the Keras decay
    (0.99), and the biased batch variance for running_var. Same state as nn.BatchNorm2d."""

    def __init__(self, channels, momentum=0.99, eps=1e-3):
        super().__init__(channels, eps=eps, momentum=1.0 - momentum)
        self.keras_momentum = momentum

    def forward(self, x):
        if not self.training:
            return super().forward(x)
        with torch.no_grad():
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            m = self.keras_momentum
            self.running_mean.mul_(m).add_((1.0 - m) * mean)
            self.running_var.mul_(m).add_((1.0 - m) * var)
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)


class Residual(nn.Module):
    """y = fn(x) + x (timm's ConvMixer Residual; the child is named "fn")."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class ConvMixer(nn.Module):
    """Arguments mirror models::ConvMixerConfig (bn_momentum / bn_eps its BatchNormOptions)."""

    def __init__(self, width=256, depth=8, kernel=5, patch=2, in_channels=3, num_classes=10, rescale=True,
                 softmax_head=True, bn_momentum=0.99, bn_eps=1e-3):
        super().__init__()
        self.rescale = rescale
        self.softmax_head = softmax_head

        def bn():
            return KerasBatchNorm2d(width, bn_momentum, bn_eps)

        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, kernel_size=patch, stride=patch), nn.GELU(), bn())
        self.blocks = nn.Sequential(*[
            nn.Sequential(
                Residual(nn.Sequential(nn.Conv2d(width, width, kernel, groups=width, padding="same"), nn.GELU(),
                                       bn())),
                nn.Conv2d(width, width, kernel_size=1), nn.GELU(), bn())
            for _ in range(depth)])
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        """x: [N, C, H, W] pixels in 0..255 (or [0, 1] with rescale=False)."""
        if self.rescale:
            x = x * (1.0 / 255.0)
        x = self.blocks(self.stem(x))
        x = self.head(x.mean(dim=(2, 3)))
        return torch.softmax(x, dim=-1) if self.softmax_head else x


def cross_entropy_from_probs(probs, labels, eps=1e-7):
    """Keras sparse_categorical_crossentropy on probabilities (patchnet's
    cross_entropy_from_probs): rows renormalised, clipped to [eps, 1 - eps], mean -log p."""
    p = probs / probs.sum(dim=-1, keepdim=True)
    p = p.gather(1, labels.long().view(-1, 1)).squeeze(1)
    return -torch.log(p.clamp(eps, 1.0 - eps)).mean()


if __name__ == "__main__":
    m = ConvMixer()
    for k, v in m.state_dict().items():
        print(k, list(v.shape))
