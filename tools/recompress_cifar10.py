#!/usr/bin/python3
"""Writes a copy of a CIFAR-10 binary folder whose images went through one more JPEG
encoding (PIL, quality 75, 4:2:0 chroma subsampling: the settings of the shared JPEG copy),
for the data-sensitivity runs of docs/results.md: how much accuracy does one more
generation of a compression like the shared copy's cost a model?

    /usr/bin/python3 tools/recompress_cifar10.py .data/cifar10 .data/cifar10-jpeg2 [--offset 3]

Re-encoding a JPEG-decoded image with the same settings and the same 8x8 block grid gives
back almost the same pixels (JPEG is close to idempotent), so by default the image is
encoded at an offset of 3 pixels (edge-padded to 40x40, cropped back after decoding): the
blocks and the 2x2 chroma cells then straddle the old ones and the loss is a new one, of the
size the first encoding had. Needs Debian's python3-numpy and python3-pil. Labels and order
are kept; the PSNR of the new images against the input images is printed.
"""

import argparse
import io
import os
import sys

import numpy as np
from PIL import Image

FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]


def recompress(records, quality, offset):
    out = records.copy()
    mse = []
    for r in out:
        img = r[1:].reshape(3, 32, 32).transpose(1, 2, 0)
        padded = np.pad(img, ((offset, 8 - offset), (offset, 8 - offset), (0, 0)), mode="edge") if offset else img
        buf = io.BytesIO()
        Image.fromarray(padded).save(buf, format="JPEG", quality=quality, subsampling="4:2:0")
        new = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
        new = new[offset:offset + 32, offset:offset + 32]
        mse.append(np.mean((new.astype(np.float64) - img) ** 2))
        r[1:] = new.transpose(2, 0, 1).reshape(-1)
    return out, mse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="folder holding cifar-10-batches-bin/")
    ap.add_argument("dst")
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--offset", type=int, default=3, help="block-grid offset in pixels, 0..7 (0: the same grid)")
    args = ap.parse_args(argv)
    src = os.path.join(args.src, "cifar-10-batches-bin")
    dst = os.path.join(args.dst, "cifar-10-batches-bin")
    os.makedirs(dst, exist_ok=True)
    all_mse = []
    for name in FILES:
        path = os.path.join(src, name)
        if not os.path.exists(path):
            print(f"recompress_cifar10.py: no {path}", file=sys.stderr)
            return 1
        if name.endswith(".txt"):
            with open(path, "rb") as f, open(os.path.join(dst, name), "wb") as g:
                g.write(f.read())
            continue
        records = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
        out, mse = recompress(records, args.quality, args.offset)
        all_mse += mse
        out.tofile(os.path.join(dst, name))
    psnr = 10 * np.log10(255.0 ** 2 / max(float(np.mean(all_mse)), 1e-12))
    print(f"wrote {dst}: {len(all_mse)} images, mean PSNR {psnr:.2f} dB against the input")
    return 0


if __name__ == "__main__":
    sys.exit(main())
