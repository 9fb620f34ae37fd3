#!/usr/bin/python3
"""Checks the Python tools behind docs/results.md: tools/recompress_cifar10.py (the data
copies of the data-cost runs) and tools/results_table.py (how run folders are grouped).
Exits 77 (CTest: skipped) where Debian's python3-numpy or python3-pil is missing.

    /usr/bin/python3 tests/tools/test_results_tools.py
"""

import contextlib
import io
import os
import sys
import tempfile
import unittest

try:
    import numpy as np
    import PIL  # noqa: F401
except ImportError:
    print("skipped: needs Debian's python3-numpy and python3-pil")
    sys.exit(77)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import recompress_cifar10 as rc  # noqa: E402
import results_table as rt  # noqa: E402


def records(n, seed=0):
    """n CIFAR-10 records of smooth random images (label, then the R, G, B planes)."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 3073), np.uint8)
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(n):
        out[i, 0] = i % 10
        planes = [128 + 100 * np.sin(xx / rng.uniform(2, 6) + c) * np.cos(yy / rng.uniform(2, 6)) for c in range(3)]
        planes = np.stack(planes) + rng.normal(0, 8, (3, 32, 32))
        out[i, 1:] = np.clip(planes, 0, 255).astype(np.uint8).reshape(-1)
    return out


class Recompress(unittest.TestCase):
    def test_downscale_without_encoding_is_the_rounded_box_mean_repeated(self):
        src = records(4)
        out, mse = rc.transform(src, 0, 0, 2)
        self.assertTrue(np.array_equal(out[:, 0], src[:, 0]))
        self.assertEqual(mse, [0.0] * 4)
        for a, b in zip(src, out):
            img = a[1:].reshape(3, 16, 2, 16, 2).astype(np.float64).mean(axis=(2, 4))
            got = b[1:].reshape(3, 32, 32)
            self.assertTrue(np.array_equal(got[:, ::2, ::2], np.rint(img).astype(np.uint8)))
            for dy in (0, 1):
                for dx in (0, 1):  # every 2x2 cell holds one value: a patch-2 stem sees the 16x16 image
                    self.assertTrue(np.array_equal(got[:, dy::2, dx::2], got[:, ::2, ::2]))

    def test_downscale_with_encoding_keeps_cells_and_loses_detail(self):
        src = records(6, seed=1)
        plain, _ = rc.transform(src, 0, 0, 2)
        coded, mse = rc.transform(src, 75, 0, 2)
        got = coded[:, 1:].reshape(-1, 3, 32, 32)
        self.assertTrue(np.array_equal(got[:, :, 1::2, 1::2], got[:, :, ::2, ::2]))
        self.assertFalse(np.array_equal(coded, plain))
        psnr = 10 * np.log10(255.0 ** 2 / np.mean(mse))
        self.assertGreater(psnr, 18)
        self.assertLess(psnr, 45)
        # the error is measured against the 16x16 image before encoding
        diff = (coded[:, 1:].astype(np.float64) - plain[:, 1:]) ** 2
        self.assertAlmostEqual(float(np.mean(diff)), float(np.mean(mse)), places=6)

    def test_second_generation_on_a_shifted_grid_loses_more_than_on_the_same_grid(self):
        src = records(6, seed=2)
        first, _ = rc.transform(src, 75, 0, 1)
        _, same = rc.transform(first, 75, 0, 1)
        _, shifted = rc.transform(first, 75, 3, 1)
        self.assertGreater(np.mean(shifted), 2 * np.mean(same))

    def test_bad_arguments_are_refused(self):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(io.StringIO()) as err:
            self.assertEqual(rc.main([d, os.path.join(d, "out"), "--quality", "120"]), 2)
            self.assertEqual(rc.main([d, os.path.join(d, "out")]), 1)
        self.assertIn("no ", err.getvalue())

    def test_a_truncated_file_is_refused(self):
        with tempfile.TemporaryDirectory() as d, contextlib.redirect_stderr(io.StringIO()) as err:
            os.makedirs(os.path.join(d, "cifar-10-batches-bin"))
            records(2)[:, :2000].tofile(os.path.join(d, "cifar-10-batches-bin", "data_batch_1.bin"))
            self.assertEqual(rc.main([d, os.path.join(d, "out")]), 1)
        self.assertIn("not a whole number of 3073-byte records", err.getvalue())


def write_run(root, name, test, epochs=2, command=None, extra=""):
    os.makedirs(os.path.join(root, name))
    if command:
        with open(os.path.join(root, name, "run.info"), "w") as f:
            f.write(f"commit abc1234\ncommand {command}\n")
    with open(os.path.join(root, name, "stdout.log"), "w") as f:
        for e in range(1, epochs + 1):
            f.write(f"epoch {e}/{epochs}  loss 1.0  acc 0.5000  val_loss 1.0  val_acc 0.{40 + e}00  1.0 s\n")
        f.write(extra)
        if test is not None:
            f.write(f"test accuracy: {test}%\n")


class ResultsTable(unittest.TestCase):
    def table(self, names):
        with tempfile.TemporaryDirectory() as d:
            for name, test, *command in names:
                write_run(d, name, test, command=command[0] if command else None)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                self.assertEqual(rt.main([d]), 0)
            return buf.getvalue().splitlines()

    def test_variants_with_dashes_and_longer_prefixes(self):
        lines = self.table([("convmixer-s42", 80.0), ("convmixer-s43", 82.0),
                            ("convmixer-half-s42", 75.5), ("convmixer-half-jpeg83-s42", 73.25),
                            ("convmixer-quick-fp32-s42", 60.0), ("convmixer-half-jpeg83-s43", None)])
        row = {line.split("|")[1].strip(): line for line in lines if line.startswith("| ")}
        self.assertIn("81.00% ± 1.41 (min 80.00, max 82.00, n = 2)", row["ConvMixer-256/8, 10 epochs"])
        half = [v for k, v in row.items() if k.startswith("ConvMixer-256/8, 10 epochs, images averaged down")]
        jpeg = [v for k, v in row.items() if k.startswith("ConvMixer-256/8, 10 epochs, the same 16x16 images")]
        self.assertEqual(len(half), 1)
        self.assertIn("75.50%", half[0])
        self.assertEqual(len(jpeg), 1)
        self.assertIn("73.25% (1 run unfinished)", jpeg[0])
        # the quick profile's runs belong to their own group, not to ConvMixer-256/8's variants
        self.assertIn("60.00%", row["ConvMixer-128/4 (quick profile), 2 epochs, float32 matrix products"])
        self.assertFalse(any(k.startswith("ConvMixer-256/8, 10 epochs, quick") for k in row))

    def test_a_variant_says_bf16_only_when_all_its_runs_used_it(self):
        bf16 = "convmixer_cifar10 --profile seed --matmul-precision bf16 --seed 42"
        lines = self.table([("convmixer-half-s42", 75.5, bf16), ("convmixer-half-s43", 76.5, bf16),
                            ("involution-inv-half-s42", 40.0, "involution_cifar10 --model inv --seed 42"),
                            ("involution-inv-half-jpeg83-s42", 39.0, bf16), ("involution-inv-half-jpeg83-s43", 38.0)])
        titles = [line.split("|")[1].strip() for line in lines if line.startswith("| ")]
        self.assertIn("ConvMixer-256/8, 10 epochs, images averaged down to 16x16, stand-ins for original pixels "
                      "(experiment, bf16 products)", titles)
        self.assertIn("involution network, 20 epochs, images averaged down to 16x16, stand-ins for original "
                      "pixels (experiment)", titles)
        # one of its two runs ran in float32: no precision in the title
        self.assertIn("involution network, 20 epochs, the same 16x16 images through a first JPEG encoding at 30 dB "
                      "(experiment)", titles)

    def test_shiftvit_is_scored_on_its_final_weights(self):
        with tempfile.TemporaryDirectory() as d:
            final = "final weights: test accuracy: 77.50%\nfinal weights: test top-5 accuracy: 98.60%\n"
            write_run(d, "shiftvit-s42", 79.0, extra=final + "test top-5 accuracy: 98.40%\n")
            write_run(d, "shiftvit-s43", 78.0, extra="test top-5 accuracy: 98.30%\n")  # an older log: best only
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                self.assertEqual(rt.main([d]), 0)
        row = [line for line in buf.getvalue().splitlines() if line.startswith("| ShiftViT")]
        self.assertEqual(len(row), 1)
        self.assertIn("77.75% ± 0.35 (min 77.50, max 78.00, n = 2) / 98.45% ± 0.21", row[0])

    def test_a_run_row_keeps_two_decimals_and_names_final_and_best(self):
        with tempfile.TemporaryDirectory() as d:
            write_run(d, "involution-inv-s45", 43.9)
            final = "final weights: test accuracy: 77.50%\n"
            write_run(d, "shiftvit-s42", 79.0, extra=final)
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                self.assertEqual(rt.main([d, "--runs"]), 0)
        row = {line.split("|")[1].strip(): line for line in buf.getvalue().splitlines() if line.startswith("| ")}
        self.assertTrue(row["involution-inv-s45"].endswith("| 43.90 |"))
        self.assertTrue(row["shiftvit-s42"].endswith("| 77.50 (final weights); 79.00 (best checkpoint) |"))

    def test_owner_is_the_longest_prefix(self):
        self.assertEqual(rt.owner("convmixer-quick-bf16-s44"), "convmixer-quick")
        self.assertEqual(rt.owner("convmixer-half-s42"), "convmixer")
        self.assertEqual(rt.owner("involution-conv-torch-s42"), "involution-conv")
        self.assertIsNone(rt.owner("resnet-s42"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
