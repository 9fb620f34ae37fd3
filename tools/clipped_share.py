#!/usr/bin/python3
"""How many training images a probability-clipping loss would ignore: loads a ConvMixer
checkpoint of convmixer_cifar10 into its PyTorch twin, runs the training split (CIFAR-10
binary files, the first 5,000 images left out as the program's validation set) in eval mode,
and counts the images whose true class gets a probability below 1e-7, where
cross_entropy_from_probs clips and passes no gradient (docs/results.md, ConvMixer).

    /usr/bin/python3 tools/clipped_share.py runs/reproduce/convmixer-s42/best.safetensors .data/cifar10
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import safetensors_check  # noqa: E402
from convmixer import ConvMixer  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("data", help="folder holding cifar-10-batches-bin/")
    ap.add_argument("--floor", type=float, default=1e-7)
    ap.add_argument("--batch-size", type=int, default=500)
    args = ap.parse_args(argv)
    tensors, meta = safetensors_check.load(args.checkpoint)
    model = ConvMixer(width=int(meta.get("width", 256)), depth=int(meta.get("depth", 8)),
                      kernel=int(meta.get("kernel", 5)), patch=int(meta.get("patch", 2)), softmax_head=False)
    state = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    folder = os.path.join(args.data, "cifar-10-batches-bin")
    records = np.concatenate([np.fromfile(os.path.join(folder, f"data_batch_{i}.bin"), dtype=np.uint8).reshape(-1, 3073)
                              for i in range(1, 6)])[5000:]
    labels = torch.from_numpy(records[:, 0].astype(np.int64))
    images = torch.from_numpy(records[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32))
    below, wrong, margins = 0, 0, []
    with torch.no_grad():
        for b in range(0, len(labels), args.batch_size):
            logits = model(images[b:b + args.batch_size])
            logp = torch.log_softmax(logits.double(), dim=-1)
            true = logp.gather(1, labels[b:b + args.batch_size].view(-1, 1)).squeeze(1)
            below += int((true < np.log(args.floor)).sum())
            wrong += int((logp.argmax(1) != labels[b:b + args.batch_size]).sum())
            margins.append(true)
    true = torch.cat(margins)
    n = len(labels)
    print(f"{args.checkpoint}: {n} training images (eval mode); true-class probability below {args.floor:g}: "
          f"{below} ({100.0 * below / n:.2f}%); below 1e-3: {int((true < np.log(1e-3)).sum())}; "
          f"misclassified: {wrong} ({100.0 * wrong / n:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
