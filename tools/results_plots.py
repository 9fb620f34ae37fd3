#!/usr/bin/python3
"""Draws the learning curves of docs/results.md: every seed's per-epoch training and
validation accuracy (from the runs of tools/reproduce.sh) against the logs of the Keras
examples, one small PNG per model in docs/img/.

    /usr/bin/python3 tools/results_plots.py runs/reproduce docs/img

Needs Debian's python3-matplotlib. The reference curves are the per-epoch figures printed by
the Keras examples' own runs (Keras reports the training accuracy as the running mean over
the epoch, as patchnet does).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from results_table import parse_run, split_name  # noqa: E402

# (train accuracy, validation accuracy) per epoch, from the Keras examples' logs.
KERAS = {
    "convmixer": {
        "Keras 3 example (83.69%)": (
            [.4594, .6996, .7823, .8264, .8605, .8788, .8972, .9087, .9176, .9336],
            [.1536, .7240, .7800, .8074, .7996, .8072, .8226, .8310, .8458, .8316]),
        "TF2 + Addons example (83.25%)": (
            [.5592, .7278, .7943, .8330, .8599, .8804, .8944, .9083, .9194, .9278],
            [.1196, .6898, .7856, .8064, .8166, .8228, .8264, .8346, .8326, .8372]),
    },
    "involution-inv": {
        "Keras example (47.19%)": (
            [.1369, .2922, .3477, .3741, .3931, .4057, .4134, .4200, .4286, .4346,
             .4395, .4445, .4493, .4528, .4575, .4599, .4664, .4701, .4737, .4771],
            [.2716, .3478, .3782, .3901, .4007, .4108, .4202, .4312, .4316, .4346,
             .4388, .4443, .4497, .4547, .4548, .4581, .4598, .4575, .4676, .4719]),
    },
    "involution-conv": {
        "Keras example (73.04%)": (
            [.3068, .5153, .5949, .6414, .6690, .6951, .7122, .7299, .7467, .7591,
             .7725, .7808, .7860, .7998, .8117, .8168, .8266, .8374, .8452, .8531],
            [.4861, .5741, .6095, .6260, .6622, .6783, .6856, .7001, .6992, .7235,
             .7115, .7051, .7122, .7214, .7139, .7155, .7239, .7262, .7235, .7304]),
    },
    "shiftvit": {
        "Keras example (76.38%)": (
            [.1444, .2893, .3810, .4374, .4816, .5131, .5385, .5568, .5698, .5861,
             .5994, .6157, .6178, .6416, .6470, .6611, .6740, .6916, .6984, .7103,
             .7180, .7317, .7415, .7423, .7512, .7577, .7654, .7724, .7707, .7823,
             .7902, .7898, .7850, .8041, .8056, .8116, .8170, .8217, .8304, .8350,
             .8382, .8380, .8450, .8433, .8551, .8644, .8694, .8673, .8741, .8738],
            [.2610, .3356, .4585, .4862, .5092, .5411, .5416, .5733, .5675, .5883,
             .6064, .6133, .6402, .6405, .6415, .6406, .6844, .6908, .6982, .6745,
             .6948, .7277, .7284, .7340, .7280, .7322, .7434, .7280, .7458, .7470,
             .7508, .7469, .7569, .7552, .7331, .7680, .7610, .7703, .7668, .7688,
             .7598, .7722, .7693, .7698, .7820, .7740, .7768, .7713, .7738, .7734]),
    },
}
TITLES = {"convmixer": "ConvMixer-256/8", "involution-inv": "involution network",
          "involution-conv": "conv baseline", "shiftvit": "ShiftViT"}


def style(ax, title):
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def save(fig, axes, out):
    axes[1].legend(fontsize=6.5, loc="lower right")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    print(f"wrote {out}")


def plot(group, runs, out):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
    for ax, which, title in ((axes[0], 0, "training accuracy"), (axes[1], 1, "validation accuracy")):
        for label, curves in KERAS[group].items():
            y = curves[which]
            ax.plot(range(1, len(y) + 1), y, "k--" if label.startswith("Keras") else "k:",
                    lw=1.5, label=label)
        for name, variant, run in runs:
            ep = sorted(run["epochs"])
            y = [run["epochs"][e]["acc" if which == 0 else "val_acc"] for e in ep]
            ax.plot(ep, y, lw=1, alpha=0.8, label=f"patchnet {variant}seed {name}")
        style(ax, f"{TITLES[group]}: {title}")
        if which == 1 and group == "convmixer":
            ax.set_ylim(0.6, 0.9)
    save(fig, axes, out)


# The first-encoding experiment (tools/reproduce.sh jpegcost) gets a figure of its own:
# 16x16 stand-ins for original pixels against the same images through one JPEG encoding.
JPEGCOST = {"half": "16x16 stand-ins (no JPEG)", "half-jpeg83": "the same through JPEG at 30 dB"}


def plot_jpegcost(runs, out):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
    for ax, key, title in ((axes[0], "acc", "training accuracy"), (axes[1], "val_acc", "validation accuracy")):
        for seed, variant, run in runs:
            ep = sorted(run["epochs"])
            ax.plot(ep, [run["epochs"][e][key] for e in ep], "-" if variant == "half" else "--", lw=1.2,
                    label=f"{JPEGCOST[variant]}, seed {seed}")
        style(ax, f"ConvMixer-256/8 on 16x16 images: {title}")
        if key == "val_acc":
            ax.set_ylim(0.6, 0.85)
    save(fig, axes, out)


def main(argv):
    folder = argv[1] if len(argv) > 1 else "runs/reproduce"
    out_dir = argv[2] if len(argv) > 2 else "docs/img"
    os.makedirs(out_dir, exist_ok=True)
    # (group, variant, seed, run) of every run folder with epochs (tools/results_table.py's names)
    found = []
    for n in sorted(os.listdir(folder)):
        key = split_name(n)
        r = parse_run(os.path.join(folder, n)) if key else None
        if r and r["epochs"]:
            found.append((*key, r))
    for group in KERAS:  # the reference settings and their variants, not the first-encoding runs
        runs = [(seed, f"{v} " if v else "", r) for g, v, seed, r in found if g == group and v not in JPEGCOST]
        if runs:
            plot(group, runs, os.path.join(out_dir, f"{group}_curves.png"))
    runs = [(seed, v, r) for g, v, seed, r in found if g == "convmixer" and v in JPEGCOST]
    if runs:
        plot_jpegcost(runs, os.path.join(out_dir, "convmixer_jpegcost.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
