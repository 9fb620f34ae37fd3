#!/usr/bin/python3
"""Writes a copy of a CIFAR-10 binary folder whose images went through one more JPEG
encoding (PIL, quality 75, 4:2:0 chroma subsampling: the settings of the shared JPEG copy),
for the data-sensitivity runs of docs/results.md: how much accuracy does a compression like
the shared copy's cost a model?

    /usr/bin/python3 tools/recompress_cifar10.py .data/cifar10 .data/cifar10-jpeg2 [--offset 3]
    /usr/bin/python3 tools/recompress_cifar10.py .data/cifar10 .data/cifar10-half --downscale 2 --quality 0
    /usr/bin/python3 tools/recompress_cifar10.py .data/cifar10 .data/cifar10-half-jpeg --downscale 2

Re-encoding a JPEG-decoded image with the same settings and the same 8x8 block grid gives
back almost the same pixels (JPEG is close to idempotent), so by default the image is
encoded at an offset of 3 pixels (edge-padded to 40x40, cropped back after decoding): the
blocks and the 2x2 chroma cells then straddle the old ones and the loss is a new one, of the
size the first encoding had.

--downscale 2 measures a *first* encoding instead: each image is averaged down to 16x16
(2x2 boxes, which wash out most of the shared copy's JPEG error: these stand in for
original pixels), encoded at that size (--quality 0: not encoded), and written back at
32x32 by repeating each pixel 2x2, so the programs read it unchanged and a patch-2 stem sees
exactly the 16x16 image. Needs Debian's python3-numpy and python3-pil. Labels and order are
kept; the PSNR of the encoded images against the images before encoding is printed.
"""

import argparse
import io
import os
import sys

import numpy as np
from PIL import Image

FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]


def jpeg(img, quality, offset):
    """img (HxWx3 uint8) through one JPEG encoding at quality, 4:2:0, block grid shifted by offset."""
    padded = np.pad(img, ((offset, 8 - offset), (offset, 8 - offset), (0, 0)), mode="edge") if offset else img
    buf = io.BytesIO()
    Image.fromarray(padded).save(buf, format="JPEG", quality=quality, subsampling="4:2:0")
    new = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return new[offset:offset + img.shape[0], offset:offset + img.shape[1]]


def transform(records, quality, offset, downscale):
    out = records.copy()
    mse = []
    for r in out:
        img = r[1:].reshape(3, 32, 32).transpose(1, 2, 0)
        if downscale > 1:
            s = 32 // downscale
            img = img.astype(np.float64).reshape(s, downscale, s, downscale, 3).mean(axis=(1, 3))
            img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        new = jpeg(img, quality, offset) if quality else img
        mse.append(np.mean((new.astype(np.float64) - img) ** 2))
        if downscale > 1:
            new = new.repeat(downscale, axis=0).repeat(downscale, axis=1)
        r[1:] = new.transpose(2, 0, 1).reshape(-1)
    return out, mse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="folder holding cifar-10-batches-bin/")
    ap.add_argument("dst")
    ap.add_argument("--quality", type=int, default=75, help="JPEG quality, 1..95 (0: no encoding)")
    ap.add_argument("--offset", type=int, default=None,
                    help="block-grid offset in pixels, 0..7 (0: the same grid; default 3, or 0 with --downscale)")
    ap.add_argument("--downscale", type=int, default=1, choices=[1, 2, 4],
                    help="average the images down by this factor first, encode at that size, repeat pixels back up")
    args = ap.parse_args(argv)
    offset = args.offset if args.offset is not None else (0 if args.downscale > 1 else 3)
    if not 0 <= offset <= 7 or not 0 <= args.quality <= 95:
        print("recompress_cifar10.py: --offset must be 0..7 and --quality 0..95", file=sys.stderr)
        return 2
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
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % 3073:
            print(f"recompress_cifar10.py: {path} is {raw.size} bytes, not a whole number of 3073-byte records",
                  file=sys.stderr)
            return 1
        records = raw.reshape(-1, 3073)
        out, mse = transform(records, args.quality, offset, args.downscale)
        all_mse += mse
        out.tofile(os.path.join(dst, name))
    mean = float(np.mean(all_mse))
    psnr = "inf" if mean == 0 else f"{10 * np.log10(255.0 ** 2 / mean):.2f}"
    print(f"wrote {dst}: {len(all_mse)} images, mean PSNR {psnr} dB against the images before encoding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
