#!/usr/bin/python3
"""Golden values for patchnet's optimizers (include/patchnet/optim/), in float64.

Run with Debian's python3-torch (torch 1.13, CPU):

    /usr/bin/python3 tests/golden/make_optim_golden.py

It rewrites tests/golden/optim.txt. The output is deterministic: parameters and the gradient
of every step come from a torch.Generator seeded per case (FNV-1a of the case name), torch
runs on one thread, and values are written as Python's repr of the float64.

Conventions and where the expected values come from:

- torch.optim.AdamW, torch.optim.Adam and torch.optim.SGD (momentum, nesterov, weight decay)
  run as they are (foreach off). A parameter listed in `no_decay` sits in a second param group
  with weight_decay 0. The learning rate changes every step (set in param_groups), as a
  schedule would.
- Keras 3 keras.optimizers.AdamW / Adam and tfa.optimizers.AdamW are not installed, so their
  update is written out below (keras_adam), line by line as in their sources:
    weight decay first (Keras 3 base optimizer: p = p - p * wd * lr; TFA
    DecoupledWeightDecayExtension: p = p - wd * p, not scaled by lr), then Keras' Adam:
    m += (g - m) * (1 - b1); v += (g^2 - v) * (1 - b2);
    alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); p -= alpha * m / (sqrt(v) + eps).

Format (read by tests/support/golden.hpp; see tests/golden/README.md):

    case <name>
    attr optimizer adamw|adam|sgd
    attr epsilon pytorch|keras          (adam, adamw)
    attr decay scaled|unscaled          (adamw)
    attr beta1 / beta2 / eps / weight_decay / momentum / nesterov
    attr lr <lr of step 1> <lr of step 2> ...
    attr params <name> ...              the parameters, in order
    attr no_decay <name> ...            (optional) parameters excluded from weight decay
    tensor <p> f64 [...]                initial value of parameter p
    tensor grad_<p>_<t> f64 [...]       its gradient at step t (1-based)
    tensor <p>_<t> f64 [...]            its value after step t
    tensor <p>.<state> f64 [...]        the final optimizer state (exp_avg, exp_avg_sq,
                                        momentum_buffer), named as state_tensors() names it
    end
"""

import math
import os
import sys

import torch

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

SHAPES = {"w": (3, 4), "b": (5,), "s": (1,)}


def seed_of(text):
    """FNV-1a of the text, folded to 63 bits (as make_golden.py)."""
    h = 1469598103934665603
    for c in text.encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h & 0x7FFFFFFFFFFFFFFF


def make_inputs(case, names, steps):
    """Initial parameters in [-1, 1] and one gradient per step. Step 3's gradient of "b" is
    scaled by 1e-3 (so eps matters) and one gradient element is exactly 0."""
    gen = torch.Generator().manual_seed(seed_of("optim/" + case))
    u = lambda shape: torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
    params = {n: u(SHAPES[n]) for n in names}
    grads = []
    for t in range(1, steps + 1):
        g = {n: u(SHAPES[n]) for n in names}
        if t == 3 and "b" in g:
            g["b"] = g["b"] * 1e-3
        if t == 2:
            g[names[0]].view(-1)[0] = 0.0
        grads.append(g)
    return params, grads


def run_torch(make_opt, params, grads, lrs, no_decay):
    """Runs a torch optimizer; returns the values after each step and the final state."""
    leaves = {n: p.clone().requires_grad_(True) for n, p in params.items()}
    decayed = [leaves[n] for n in leaves if n not in no_decay]
    excluded = [leaves[n] for n in leaves if n in no_decay]
    groups = [{"params": decayed}]
    if excluded:
        groups.append({"params": excluded, "weight_decay": 0.0})
    opt = make_opt(groups)
    history = []
    for g, lr in zip(grads, lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        for n, p in leaves.items():
            p.grad = g[n].clone()
        opt.step()
        history.append({n: p.detach().clone() for n, p in leaves.items()})
    state = {}
    for n, p in leaves.items():
        for key in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
            if key in opt.state[p] and opt.state[p][key] is not None:
                state[f"{n}.{key}"] = opt.state[p][key].clone()
    return history, state


def keras_adam(params, grads, lrs, b1, b2, eps, wd, decay, no_decay):
    """Keras 3 AdamW (decay 'scaled'), TFA AdamW ('unscaled') or Keras Adam (wd 0)."""
    p = {n: v.clone() for n, v in params.items()}
    m = {n: torch.zeros_like(v) for n, v in params.items()}
    v = {n: torch.zeros_like(x) for n, x in params.items()}
    history = []
    for t, (g, lr) in enumerate(zip(grads, lrs), start=1):
        for n in p:
            if wd and n not in no_decay:
                if decay == "scaled":
                    p[n] = p[n] - p[n] * wd * lr  # Keras 3 BaseOptimizer._apply_weight_decay
                else:
                    p[n] = p[n] - wd * p[n]  # TFA: var.assign_sub(wd_t * var)
            m[n] = m[n] + (g[n] - m[n]) * (1 - b1)
            v[n] = v[n] + (g[n] * g[n] - v[n]) * (1 - b2)
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            p[n] = p[n] - (m[n] * alpha) / (torch.sqrt(v[n]) + eps)
        history.append({n: x.clone() for n, x in p.items()})
    state = {}
    for n in p:
        state[f"{n}.exp_avg"] = m[n]
        state[f"{n}.exp_avg_sq"] = v[n]
    return history, state


def fmt(x):
    return repr(float(x))


class Golden:
    def __init__(self):
        self.lines = [
            "# patchnet golden values: optim. AdamW / Adam / SGD trajectories (PyTorch, Keras 3, TFA conventions).",
            f"# Written by tests/golden/make_optim_golden.py with torch {torch.__version__}; do not edit.",
        ]

    def tensor(self, name, t):
        dims = ",".join(str(d) for d in t.shape)
        self.lines.append(f"tensor {name} f64 [{dims}]")
        row = t.shape[-1] if t.dim() > 0 else 1
        flat = t.reshape(-1).tolist()
        for i in range(0, len(flat), row):
            self.lines.append(" ".join(fmt(x) for x in flat[i:i + row]))

    def case(self, name, attrs, params, grads, history, state):
        self.lines += ["", f"case {name}"]
        for key, value in attrs.items():
            vals = value if isinstance(value, (list, tuple)) else [value]
            if vals:
                self.lines.append(f"attr {key} " + " ".join(str(x) for x in vals))
        for n, p in params.items():
            self.tensor(n, p)
        for t, (g, h) in enumerate(zip(grads, history), start=1):
            for n in params:
                self.tensor(f"grad_{n}_{t}", g[n])
            for n in params:
                self.tensor(f"{n}_{t}", h[n])
        for key in sorted(state):
            self.tensor(key, state[key])
        self.lines.append("end")

    def write(self):
        path = os.path.join(OUT_DIR, "optim.txt")
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")
        return path


LRS = [0.1, 0.05, 0.02, 0.08, 0.01]  # varies per step, as a schedule would


def main():
    out = Golden()
    names = ["w", "b", "s"]

    def add(name, attrs, run, no_decay=()):
        params, grads = make_inputs(name, names, len(LRS))
        history, state = run(params, grads, list(no_decay))
        attrs = dict(attrs, lr=LRS, params=names, no_decay=list(no_decay))
        out.case(name, attrs, params, grads, history, state)

    # ---- PyTorch ----
    for name, eps, wd, no_decay in [("adamw_pytorch", 1e-8, 0.1, ["b"]), ("adamw_pytorch_eps0.05", 0.05, 0.3, [])]:
        attrs = {"optimizer": "adamw", "epsilon": "pytorch", "decay": "scaled", "beta1": 0.9, "beta2": 0.999,
                 "eps": eps, "weight_decay": wd}
        add(name, attrs, lambda p, g, nd, eps=eps, wd=wd: run_torch(
            lambda groups: torch.optim.AdamW(groups, lr=0.0, betas=(0.9, 0.999), eps=eps, weight_decay=wd,
                                             foreach=False), p, g, LRS, nd), no_decay)
    for name, b1, b2, eps in [("adam_pytorch", 0.8, 0.99, 1e-8), ("adam_pytorch_eps0.05", 0.9, 0.999, 0.05)]:
        attrs = {"optimizer": "adam", "epsilon": "pytorch", "beta1": b1, "beta2": b2, "eps": eps}
        add(name, attrs, lambda p, g, nd, b1=b1, b2=b2, eps=eps: run_torch(
            lambda groups: torch.optim.Adam(groups, lr=0.0, betas=(b1, b2), eps=eps, foreach=False), p, g, LRS, nd))
    for name, mom, wd, nesterov, no_decay in [("sgd_plain", 0.0, 0.0, False, []),
                                              ("sgd_wd", 0.0, 0.1, False, ["s"]),
                                              ("sgd_momentum_wd", 0.9, 0.05, False, ["b"]),
                                              ("sgd_nesterov_wd", 0.8, 0.01, True, [])]:
        attrs = {"optimizer": "sgd", "momentum": mom, "weight_decay": wd, "nesterov": int(nesterov)}
        add(name, attrs, lambda p, g, nd, mom=mom, wd=wd, nesterov=nesterov: run_torch(
            lambda groups: torch.optim.SGD(groups, lr=0.0, momentum=mom, weight_decay=wd, nesterov=nesterov,
                                           foreach=False), p, g, LRS, nd), no_decay)

    # ---- Keras 3 AdamW / Adam and TFA AdamW, written out ----
    for name, decay, eps, wd, no_decay in [("adamw_keras", "scaled", 1e-7, 0.1, ["b"]),
                                           ("adamw_keras_eps0.05", "scaled", 0.05, 0.3, []),
                                           ("adamw_tfa", "unscaled", 1e-7, 0.02, ["b"]),
                                           ("adamw_tfa_eps0.05", "unscaled", 0.05, 0.05, [])]:
        attrs = {"optimizer": "adamw", "epsilon": "keras", "decay": decay, "beta1": 0.9, "beta2": 0.999,
                 "eps": eps, "weight_decay": wd}
        add(name, attrs, lambda p, g, nd, decay=decay, eps=eps, wd=wd: keras_adam(
            p, g, LRS, 0.9, 0.999, eps, wd, decay, nd), no_decay)
    for name, b1, b2, eps in [("adam_keras", 0.9, 0.999, 1e-7), ("adam_keras_eps0.05", 0.8, 0.99, 0.05)]:
        attrs = {"optimizer": "adam", "epsilon": "keras", "beta1": b1, "beta2": b2, "eps": eps}
        add(name, attrs, lambda p, g, nd, b1=b1, b2=b2, eps=eps: keras_adam(p, g, LRS, b1, b2, eps, 0.0, "scaled", nd))

    path = out.write()
    print(f"{os.path.relpath(path)}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    sys.exit(main())
