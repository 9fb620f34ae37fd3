#!/usr/bin/python3
"""Golden values for patchnet's ops and model blocks, computed with PyTorch in float64.

Run with Debian's python3-torch (torch 1.13, CPU):

    /usr/bin/python3 tests/golden/make_golden.py

It rewrites tests/golden/<family>.txt. The output is deterministic: inputs come from a
torch.Generator seeded per case, torch runs on one thread, and values are written as
Python's repr of the float64 (shortest text that reads back to the same double).

patchnet follows the Keras/TensorFlow semantics of the seeds, so this script emulates them
in torch: activations are NHWC (permuted to NCHW only around torch's conv/pool calls),
weights are in Keras layouts (conv HWIO [KH, KW, Cin/groups, Cout], depthwise [KH, KW, C],
pointwise and linear [in, out]), "same" padding is TensorFlow's (out = ceil(in / S), odd pixel
at the bottom/right, applied with F.pad before an unpadded torch call), batch norm uses the
Keras update running = m * running + (1 - m) * batch with the biased batch variance, and
pooling with "same" padding ignores the pads (max) or divides by the number of valid
elements (average).

Each case records every input and parameter, the outputs, a fixed random gradient for each
differentiated output (grad_<output>), and the resulting gradients of the inputs and
parameters (grad_<name>). The file format is described in tests/golden/README.md.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


# ---- inputs -------------------------------------------------------------------------------

def seed_of(text):
    """FNV-1a of the text, folded to 63 bits: a per-case seed that never changes."""
    h = 1469598103934665603
    for c in text.encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h & 0x7FFFFFFFFFFFFFFF


class Inputs:
    """Seeded uniform tensors for one case; the draw order fixes the values."""

    def __init__(self, key):
        self.gen = torch.Generator().manual_seed(seed_of(key))

    def uniform(self, *shape, lo=-1.0, hi=1.0):
        return torch.rand(tuple(shape), generator=self.gen, dtype=torch.float64) * (hi - lo) + lo

    def labels(self, n, k):
        return torch.randint(0, k, (n,), generator=self.gen, dtype=torch.int64)


# ---- Keras/TF semantics in torch -------------------------------------------------------------

def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def same_pads(h, w, kh, kw, sh, sw):
    """TensorFlow "same": (top, bottom, left, right), the odd pixel at the bottom/right."""
    oh, ow = -(-h // sh), -(-w // sw)
    ph = max((oh - 1) * sh + kh - h, 0)
    pw = max((ow - 1) * sw + kw - w, 0)
    return ph // 2, ph - ph // 2, pw // 2, pw - pw // 2


def window_pads(x, kh, kw, sh, sw, padding, pad=None):
    if padding == "same":
        return same_pads(x.shape[1], x.shape[2], kh, kw, sh, sw)
    if padding == "explicit":
        return tuple(pad)
    return 0, 0, 0, 0


def pad_nchw(xc, pads, value=0.0):
    top, bottom, left, right = pads
    return F.pad(xc, (left, right, top, bottom), value=value)


def conv2d(x, w, b, stride=(1, 1), padding="valid", pad=None, groups=1):
    """x NHWC, w HWIO [KH, KW, Cin/groups, Cout]."""
    kh, kw = w.shape[0], w.shape[1]
    pads = window_pads(x, kh, kw, stride[0], stride[1], padding, pad)
    y = F.conv2d(pad_nchw(nchw(x), pads), w.permute(3, 2, 0, 1), b, stride=stride, groups=groups)
    return nhwc(y)


def depthwise_conv2d(x, w, b, stride=(1, 1), padding="valid"):
    """w [KH, KW, C] (Keras' [KH, KW, C, 1] without the multiplier)."""
    kh, kw, c = w.shape
    pads = window_pads(x, kh, kw, stride[0], stride[1], padding)
    y = F.conv2d(pad_nchw(nchw(x), pads), w.permute(2, 0, 1).unsqueeze(1), b, stride=stride, groups=c)
    return nhwc(y)


def linear(x, w, b=None):
    """w [in, out]."""
    y = x @ w
    return y if b is None else y + b


def batch_norm(x, gamma, beta, rm, rv, training, momentum=0.99, eps=1e-3, unbiased_running_var=False):
    """Over all dims but the last. Returns (y, new running mean, new running var)."""
    if not training:
        return (x - rm) / torch.sqrt(rv + eps) * gamma + beta, rm.clone(), rv.clone()
    dims = tuple(range(x.dim() - 1))
    mean = x.mean(dim=dims)
    var = ((x - mean) ** 2).mean(dim=dims)  # biased: what normalises the batch
    y = (x - mean) / torch.sqrt(var + eps) * gamma + beta
    count = x.numel() // x.shape[-1]
    run_var = var * count / (count - 1) if unbiased_running_var else var
    new_rm = momentum * rm + (1 - momentum) * mean.detach()
    new_rv = momentum * rv + (1 - momentum) * run_var.detach()
    return y, new_rm, new_rv


def layer_norm(x, gamma, beta, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


def max_pool2d(x, pool, stride, padding):
    """TF max pool: "same" pads never win (padded with -inf)."""
    pads = window_pads(x, pool[0], pool[1], stride[0], stride[1], padding)
    xc = pad_nchw(nchw(x), pads, value=-math.inf)
    return nhwc(F.max_pool2d(xc, pool, stride))


def avg_pool2d(x, pool, stride, padding):
    """TF average pool: "same" divides each window by its number of valid elements."""
    pads = window_pads(x, pool[0], pool[1], stride[0], stride[1], padding)
    area = pool[0] * pool[1]
    total = F.avg_pool2d(pad_nchw(nchw(x), pads), pool, stride) * area
    ones = torch.ones(1, 1, x.shape[1], x.shape[2])
    count = F.avg_pool2d(pad_nchw(ones, pads), pool, stride) * area
    return nhwc(total / count)


def cross_entropy_from_probs(probs, labels, eps=1e-7):
    """Keras sparse categorical cross-entropy on probabilities: p / sum, clip, -log p[label]."""
    p = probs / probs.sum(dim=-1, keepdim=True)
    p = torch.clamp(p, eps, 1 - eps)
    return -torch.log(p.gather(1, labels.unsqueeze(1))).mean()


def channel_shift(x, g, s=1):
    """The official ShiftViT code (as the ShiftViT example quotes it), on NCHW, with shift s."""
    xc = nchw(x)
    out = torch.zeros_like(xc)
    out[:, g * 0:g * 1, :, :-s] = xc[:, g * 0:g * 1, :, s:]  # left
    out[:, g * 1:g * 2, :, s:] = xc[:, g * 1:g * 2, :, :-s]  # right
    out[:, g * 2:g * 3, :-s, :] = xc[:, g * 2:g * 3, s:, :]  # up
    out[:, g * 3:g * 4, s:, :] = xc[:, g * 3:g * 4, :-s, :]  # down
    out[:, g * 4:, :, :] = xc[:, g * 4:, :, :]
    return nhwc(out)


def involution(x, kernel, k, s, groups):
    """The involution example: extract_patches (SAME) -> [.., K*K, C/G, G] * kernel [.., K*K, 1, G] -> sum.

    Channel c belongs to group c % G; kernel index (kh * K + kw) * G + g.
    """
    n, h, w, c = x.shape
    pads = same_pads(h, w, k, k, s, s)
    cols = F.unfold(pad_nchw(nchw(x), pads), k, stride=s)  # [N, C*K*K, L], c-major
    oh, ow = kernel.shape[1], kernel.shape[2]
    cols = cols.reshape(n, c // groups, groups, k * k, oh, ow)  # channel c = cg * G + g
    ker = kernel.reshape(n, oh, ow, k * k, groups).permute(0, 4, 3, 1, 2).unsqueeze(1)  # [N,1,G,KK,OH,OW]
    out = (cols * ker).sum(dim=3)  # [N, C/G, G, OH, OW]
    return out.reshape(n, c, oh, ow).permute(0, 2, 3, 1)


def involution_layer(x, p, k, s, groups, training):
    """The involution example's Involution layer. Returns (output, kernel, new running mean, new running var)."""
    t = avg_pool2d(x, (s, s), (s, s), "same") if s > 1 else x
    t = linear(t, p["reduce_weight"], p["reduce_bias"])
    t, rm, rv = batch_norm(t, p["bn_gamma"], p["bn_beta"], p["bn_running_mean"], p["bn_running_var"], training)
    t = F.relu(t)
    kernel = linear(t, p["span_weight"], p["span_bias"])
    return involution(x, kernel, k, s, groups), kernel, rm, rv


def gelu(x):
    return F.gelu(x)  # keras "gelu" and tf.nn.gelu default to the exact erf form


# ---- writing ------------------------------------------------------------------------------

def fmt(v):
    return repr(float(v))


class GoldenFile:
    def __init__(self, family, description):
        self.family = family
        self.lines = [
            f"# patchnet golden values: {family}. {description}",
            f"# Written by tests/golden/make_golden.py with torch {torch.__version__}; do not edit.",
        ]

    def case(self, name, attrs, tensors):
        self.lines.append("")
        self.lines.append(f"case {name}")
        for key, value in attrs.items():
            vals = value if isinstance(value, (list, tuple)) else [value]
            self.lines.append(f"attr {key} " + " ".join(str(v) for v in vals))
        for tname, t in tensors.items():
            t = t.detach()
            is_int = not t.is_floating_point()
            dims = ",".join(str(d) for d in t.shape)
            self.lines.append(f"tensor {tname} {'i32' if is_int else 'f64'} [{dims}]")
            row = t.shape[-1] if t.dim() > 0 and t.shape[-1] > 0 else 1
            flat = t.reshape(-1).tolist()
            for i in range(0, len(flat), row):
                chunk = flat[i:i + row]
                self.lines.append(" ".join(str(int(v)) if is_int else fmt(v) for v in chunk))
        self.lines.append("end")

    def write(self):
        path = os.path.join(OUT_DIR, self.family + ".txt")
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")
        return path


def run_case(golden, name, attrs, inputs, fn, grad_of, rng, extra=None):
    """Runs fn(**inputs) -> dict of outputs; differentiates the outputs named in grad_of
    against a random output gradient, w.r.t. every floating input not in `extra` (the
    non-differentiable ones: labels, running statistics)."""
    extra = extra or {}
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    outs = fn(**leaves, **{k: v.clone() for k, v in extra.items()})
    grads_out = {o: rng.uniform(*outs[o].shape) for o in grad_of}
    loss = sum((outs[o] * grads_out[o]).sum() for o in grad_of)
    loss.backward()
    tensors = dict(inputs)
    tensors.update(extra)
    tensors.update(outs)
    tensors.update({f"grad_{o}": g for o, g in grads_out.items()})
    tensors.update({f"grad_{k}": v.grad for k, v in leaves.items()})
    golden.case(name, attrs, tensors)


# ---- the cases ----------------------------------------------------------------------------

def gen_matmul():
    g = GoldenFile("matmul", "matmul and linear (w [in, out]).")
    for name, sa, sb in [("2d_5x7_7x3", (5, 7), (7, 3)), ("lead_2x5x7_7x3", (2, 5, 7), (7, 3)),
                         ("batched_3x4x5_3x5x2", (3, 4, 5), (3, 5, 2))]:
        r = Inputs("matmul/" + name)
        run_case(g, "matmul_" + name, {"op": "matmul"}, {"a": r.uniform(*sa), "b": r.uniform(*sb)},
                 lambda a, b: {"y": a @ b}, ["y"], r)
    r = Inputs("linear/bias")
    run_case(g, "linear_bias_2x1x3x9_to_7", {"op": "linear"},
             {"x": r.uniform(2, 1, 3, 9), "w": r.uniform(9, 7), "b": r.uniform(7)},
             lambda x, w, b: {"y": linear(x, w, b)}, ["y"], r)
    r = Inputs("linear/nobias")
    run_case(g, "linear_nobias_7x5_to_4", {"op": "linear"}, {"x": r.uniform(7, 5), "w": r.uniform(5, 4)},
             lambda x, w: {"y": linear(x, w)}, ["y"], r)
    return g


def gen_elementwise():
    g = GoldenFile("elementwise", "add, sub, mul, div with broadcasting.")
    specs = [("add", (2, 3, 5), (5,), lambda a, b: a + b), ("add", (4, 1, 3), (2, 1), lambda a, b: a + b),
             ("sub", (3, 4), (3, 1), lambda a, b: a - b), ("mul", (2, 3, 5), (3, 1), lambda a, b: a * b),
             ("div", (3, 5), (5,), lambda a, b: a / b)]
    for op, sa, sb, f in specs:
        name = f"{op}_{'x'.join(map(str, sa))}_{'x'.join(map(str, sb))}"
        r = Inputs("elementwise/" + name)
        b = r.uniform(*sb, lo=0.5, hi=2.0) if op == "div" else r.uniform(*sb)
        run_case(g, name, {"op": op}, {"a": r.uniform(*sa), "b": b}, lambda a, b, f=f: {"y": f(a, b)}, ["y"], r)
    return g


def gen_conv():
    g = GoldenFile("conv", "conv2d (HWIO), depthwise_conv2d ([KH,KW,C]), pointwise_conv2d ([Cin,Cout]); NHWC.")
    # name, x shape, w shape, bias, stride, padding, explicit pad, groups
    convs = [
        ("same3x3_s1_bias", (1, 5, 6, 3), (3, 3, 3, 5), True, (1, 1), "same", None, 1),
        ("same3x3_s2_5x7", (1, 5, 7, 3), (3, 3, 3, 4), True, (2, 2), "same", None, 1),
        ("merge2x2_s2_same_3x3", (2, 3, 3, 4), (2, 2, 4, 8), False, (2, 2), "same", None, 1),
        ("patch2_valid", (2, 4, 6, 3), (2, 2, 3, 6), True, (2, 2), "valid", None, 1),
        ("valid3x3_s1_nobias_5x7", (1, 5, 7, 3), (3, 3, 3, 2), False, (1, 1), "valid", None, 1),
        ("groups2_same3x3", (1, 5, 5, 6), (3, 3, 3, 4), True, (1, 1), "same", None, 2),
        ("explicit_3x2_s2x1", (1, 4, 5, 3), (3, 2, 3, 2), True, (2, 1), "explicit", (1, 0, 2, 1), 1),
    ]
    for name, sx, sw, has_b, stride, padding, pad, groups in convs:
        r = Inputs("conv2d/" + name)
        inputs = {"x": r.uniform(*sx), "w": r.uniform(*sw)}
        if has_b:
            inputs["b"] = r.uniform(sw[3])
        attrs = {"op": "conv2d", "stride": list(stride), "padding": padding, "groups": groups}
        if pad:
            attrs["pad"] = list(pad)  # top bottom left right

        def f(x, w, b=None, stride=stride, padding=padding, pad=pad, groups=groups):
            return {"y": conv2d(x, w, b, stride, padding, pad, groups)}
        run_case(g, "conv2d_" + name, attrs, inputs, f, ["y"], r)

    for name, sx, k, has_b, stride, padding in [("5x5_same_bias", (1, 5, 5, 4), 5, True, (1, 1), "same"),
                                                ("3x3_s2_same_5x7", (1, 5, 7, 3), 3, False, (2, 2), "same"),
                                                ("3x3_valid", (1, 5, 6, 4), 3, True, (1, 1), "valid")]:
        r = Inputs("depthwise/" + name)
        inputs = {"x": r.uniform(*sx), "w": r.uniform(k, k, sx[3])}
        if has_b:
            inputs["b"] = r.uniform(sx[3])

        def f(x, w, b=None, stride=stride, padding=padding):
            return {"y": depthwise_conv2d(x, w, b, stride, padding)}
        run_case(g, "depthwise_" + name, {"op": "depthwise_conv2d", "stride": list(stride), "padding": padding},
                 inputs, f, ["y"], r)

    for name, sx, cout, has_b in [("bias_5_to_7", (2, 3, 2, 5), 7, True), ("nobias_3_to_2", (1, 5, 3, 3), 2, False)]:
        r = Inputs("pointwise/" + name)
        inputs = {"x": r.uniform(*sx), "w": r.uniform(sx[3], cout)}
        if has_b:
            inputs["b"] = r.uniform(cout)

        def f(x, w, b=None):
            return {"y": linear(x, w, b)}
        run_case(g, "pointwise_" + name, {"op": "pointwise_conv2d"}, inputs, f, ["y"], r)
    return g


def gen_norm():
    g = GoldenFile("norm", "batch_norm (Keras: momentum 0.99, eps 1e-3, over all dims but the last), "
                           "layer_norm (last dim); group_norm's are in cases.txt.")
    # name, x shape, training, momentum, eps, unbiased_running_var
    bns = [("train_4x3x3x5", (4, 3, 3, 5), True, 0.99, 1e-3, False),
           ("train_2d_6x7_m0.9", (6, 7), True, 0.9, 1e-3, False),
           ("train_unbiased_2x3x5x3", (2, 3, 5, 3), True, 0.99, 1e-3, True),
           ("eval_2x3x3x5", (2, 3, 3, 5), False, 0.99, 1e-3, False),
           ("train_eps1e-5_3x2x2x6", (3, 2, 2, 6), True, 0.99, 1e-5, False)]
    for name, sx, training, m, eps, unbiased in bns:
        r = Inputs("batch_norm/" + name)
        c = sx[-1]
        inputs = {"x": r.uniform(*sx, lo=-2.0, hi=3.0), "gamma": r.uniform(c, lo=0.5, hi=1.5), "beta": r.uniform(c)}
        extra = {"running_mean": r.uniform(c), "running_var": r.uniform(c, lo=0.5, hi=1.5)}

        def f(x, gamma, beta, running_mean, running_var, training=training, m=m, eps=eps, unbiased=unbiased):
            y, rm, rv = batch_norm(x, gamma, beta, running_mean, running_var, training, m, eps, unbiased)
            return {"y": y, "running_mean_after": rm, "running_var_after": rv}
        attrs = {"op": "batch_norm", "training": int(training), "momentum": m, "eps": eps,
                 "unbiased_running_var": int(unbiased)}
        run_case(g, "batch_norm_" + name, attrs, inputs, f, ["y"], r, extra)

    for name, sx, eps in [("1x3x4x12", (1, 3, 4, 12), 1e-5), ("5x7_eps1e-3", (5, 7), 1e-3)]:
        r = Inputs("layer_norm/" + name)
        c = sx[-1]
        inputs = {"x": r.uniform(*sx, lo=-2.0, hi=3.0), "gamma": r.uniform(c, lo=0.5, hi=1.5), "beta": r.uniform(c)}
        run_case(g, "layer_norm_" + name, {"op": "layer_norm", "eps": eps}, inputs,
                 lambda x, gamma, beta, eps=eps: {"y": layer_norm(x, gamma, beta, eps)}, ["y"], r)

    return g


def gen_pool():
    g = GoldenFile("pool", "max_pool2d, avg_pool2d (TF semantics), global_avg_pool; NHWC.")
    # name, op, x shape, pool, stride, padding
    pools = [("max_2x2_valid_5x7", "max_pool2d", (2, 5, 7, 3), (2, 2), (2, 2), "valid"),
             ("max_3x3_s2_same_5x7", "max_pool2d", (2, 5, 7, 3), (3, 3), (2, 2), "same"),
             ("max_2x2_same_5x5", "max_pool2d", (1, 5, 5, 4), (2, 2), (2, 2), "same"),
             ("avg_2x2_same_5x5", "avg_pool2d", (1, 5, 5, 4), (2, 2), (2, 2), "same"),
             ("avg_3x3_s2_same_6x7", "avg_pool2d", (1, 6, 7, 3), (3, 3), (2, 2), "same"),
             ("avg_2x2_valid_4x6", "avg_pool2d", (1, 4, 6, 5), (2, 2), (2, 2), "valid"),
             ("avg_3x3_s1_same_4x5", "avg_pool2d", (1, 4, 5, 2), (3, 3), (1, 1), "same")]
    for name, op, sx, pool, stride, padding in pools:
        r = Inputs("pool/" + name)
        fn = max_pool2d if op == "max_pool2d" else avg_pool2d
        run_case(g, name, {"op": op, "pool": list(pool), "stride": list(stride), "padding": padding},
                 {"x": r.uniform(*sx)}, lambda x, fn=fn, pool=pool, stride=stride, padding=padding:
                 {"y": fn(x, pool, stride, padding)}, ["y"], r)
    r = Inputs("pool/global_avg")
    run_case(g, "global_avg_2x3x5x3", {"op": "global_avg_pool"}, {"x": r.uniform(2, 3, 5, 3)},
             lambda x: {"y": x.mean(dim=(1, 2))}, ["y"], r)
    return g


def gen_activation():
    g = GoldenFile("activation", "gelu (exact and tanh), relu, softmax, log_softmax, cross_entropy (logits, "
                                 "mean), cross_entropy_from_probs (Keras: p / sum, clip [eps, 1-eps], mean).")
    r = Inputs("gelu/none")
    run_case(g, "gelu_none_3x5x7", {"op": "gelu", "approx": "none"}, {"x": r.uniform(3, 5, 7, lo=-4.0, hi=4.0)},
             lambda x: {"y": F.gelu(x)}, ["y"], r)
    r = Inputs("gelu/tanh")
    run_case(g, "gelu_tanh_3x5x7", {"op": "gelu", "approx": "tanh"}, {"x": r.uniform(3, 5, 7, lo=-4.0, hi=4.0)},
             lambda x: {"y": F.gelu(x, approximate="tanh")}, ["y"], r)
    r = Inputs("relu")
    run_case(g, "relu_4x9", {"op": "relu"}, {"x": r.uniform(4, 9)}, lambda x: {"y": F.relu(x)}, ["y"], r)
    for op, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
        for shape, axis in [((4, 7), -1), ((2, 5, 3), 1), ((3, 4), 0)]:
            name = f"{op}_{'x'.join(map(str, shape))}_axis{axis}"
            r = Inputs("activation/" + name)
            run_case(g, name, {"op": op, "axis": axis}, {"x": r.uniform(*shape, lo=-3.0, hi=3.0)},
                     lambda x, fn=fn, axis=axis: {"y": fn(x, dim=axis)}, ["y"], r)

    for n, k in [(6, 10), (5, 3)]:
        name = f"cross_entropy_{n}x{k}"
        r = Inputs("loss/" + name)
        logits = r.uniform(n, k, lo=-3.0, hi=3.0)
        labels = r.labels(n, k).to(torch.int32)
        run_case(g, name, {"op": "cross_entropy"}, {"logits": logits},
                 lambda logits, labels: {"y": F.cross_entropy(logits, labels.long())}, ["y"], r, {"labels": labels})

    # Probabilities: a normalised softmax; an unnormalised positive array; and one where a
    # labelled probability falls under eps after normalising (clipped: no gradient there).
    r = Inputs("loss/from_probs")
    probs_sm = F.softmax(r.uniform(6, 5, lo=-3.0, hi=3.0), dim=-1)
    labels_sm = r.labels(6, 5).to(torch.int32)
    probs_un = r.uniform(4, 7, lo=0.05, hi=1.0)
    labels_un = r.labels(4, 7).to(torch.int32)
    probs_clip = r.uniform(3, 4, lo=0.1, hi=1.0)
    probs_clip[1, 2] = 1e-9
    labels_clip = torch.tensor([0, 2, 3], dtype=torch.int32)
    for name, probs, labels in [("softmax_6x5", probs_sm, labels_sm), ("unnormalised_4x7", probs_un, labels_un),
                                ("clipped_3x4", probs_clip, labels_clip)]:
        run_case(g, "cross_entropy_from_probs_" + name, {"op": "cross_entropy_from_probs", "eps": 1e-7},
                 {"probs": probs}, lambda probs, labels: {"y": cross_entropy_from_probs(probs, labels.long())},
                 ["y"], r, {"labels": labels})
    return g


def gen_shift_involution():
    g = GoldenFile("shift_involution",
                   "channel_shift (the ShiftViT example) and involution (the involution example); NHWC.")
    for name, sx, grp, s in [("1x4x5x10_g2", (1, 4, 5, 10), 2, 1), ("1x4x5x4_g1_s2", (1, 4, 5, 4), 1, 2),
                             ("1x3x4x5_g1", (1, 3, 4, 5), 1, 1)]:
        r = Inputs("channel_shift/" + name)
        run_case(g, "channel_shift_" + name, {"op": "channel_shift", "group_channels": grp, "shift": s},
                 {"x": r.uniform(*sx)}, lambda x, grp=grp, s=s: {"y": channel_shift(x, grp, s)}, ["y"], r)

    # name, x shape, K, S, G
    for name, sx, k, s, grp in [("k3_s1_g2_3x5x6", (1, 3, 5, 6), 3, 1, 2), ("k3_s2_g1_6x7x4", (1, 6, 7, 4), 3, 2, 1),
                                ("k5_s1_g3_2x3x3", (1, 2, 3, 3), 5, 1, 3), ("k3_s2_g2_5x5x4", (1, 5, 5, 4), 3, 2, 2)]:
        r = Inputs("involution/" + name)
        n, h, w, _ = sx
        oh, ow = -(-h // s), -(-w // s)
        inputs = {"x": r.uniform(*sx), "kernel": r.uniform(n, oh, ow, k * k * grp)}
        run_case(g, "involution_" + name, {"op": "involution", "kernel_size": k, "stride": s, "groups": grp},
                 inputs, lambda x, kernel, k=k, s=s, grp=grp: {"y": involution(x, kernel, k, s, grp)}, ["y"], r)

    # The whole layer; stride 2 on an even map (the seed's Reshape needs H // S = ceil(H / S)).
    for name, sx, k, s, grp, ratio, training in [("c3_k3_s1_g1_r2_train", (2, 4, 5, 3), 3, 1, 1, 2, True),
                                                 ("c4_k3_s2_g2_r2_train", (1, 6, 6, 4), 3, 2, 2, 2, True),
                                                 ("c3_k3_s1_g1_r2_eval", (1, 5, 5, 3), 3, 1, 1, 2, False)]:
        r = Inputs("involution_layer/" + name)
        run_involution_layer(g, "involution_layer_" + name, r, sx, k, s, grp, ratio, training, post=None)
    return g


def involution_params(r, c, k, grp, ratio):
    cr = c // ratio
    p = {"reduce_weight": r.uniform(c, cr), "reduce_bias": r.uniform(cr), "bn_gamma": r.uniform(cr, lo=0.5, hi=1.5),
         "bn_beta": r.uniform(cr), "span_weight": r.uniform(cr, k * k * grp), "span_bias": r.uniform(k * k * grp)}
    stats = {"bn_running_mean": r.uniform(cr), "bn_running_var": r.uniform(cr, lo=0.5, hi=1.5)}
    return p, stats


def run_involution_layer(g, name, r, sx, k, s, grp, ratio, training, post):
    """post: None (the layer alone) or "relu_maxpool2" (the involution example's network: layer -> ReLU ->
    MaxPooling2D((2, 2)), valid)."""
    c = sx[-1]
    x = r.uniform(*sx)
    p, stats = involution_params(r, c, k, grp, ratio)

    def f(x, bn_running_mean, bn_running_var, **params):
        params.update(bn_running_mean=bn_running_mean, bn_running_var=bn_running_var)
        y, kernel, rm, rv = involution_layer(x, params, k, s, grp, training)
        if post == "relu_maxpool2":
            y = max_pool2d(F.relu(y), (2, 2), (2, 2), "valid")
        return {"y": y, "kernel": kernel, "bn_running_mean_after": rm, "bn_running_var_after": rv}
    attrs = {"op": "involution_layer", "kernel_size": k, "stride": s, "groups": grp, "reduction": ratio,
             "training": int(training)}
    run_case(g, name, attrs, {"x": x, **p}, f, ["y"], r, stats)


def bn_params(r, c, prefix):
    p = {f"{prefix}_gamma": r.uniform(c, lo=0.5, hi=1.5), f"{prefix}_beta": r.uniform(c)}
    stats = {f"{prefix}_running_mean": r.uniform(c), f"{prefix}_running_var": r.uniform(c, lo=0.5, hi=1.5)}
    return p, stats


def gen_blocks():
    g = GoldenFile("blocks", "one block of each model, as the Keras examples build them: ConvMixer, ShiftViT, "
                             "involution network. BatchNorm in training mode with Keras defaults.")

    # (a) ConvMixer block: x -> depthwise KxK same -> GELU -> BN -> + x -> pointwise -> GELU -> BN.
    r = Inputs("blocks/convmixer_block")
    n, hw, c, k = 2, 6, 6, 5
    inputs = {"x": r.uniform(n, hw, hw, c), "dw_w": r.uniform(k, k, c, lo=-0.5, hi=0.5), "dw_b": r.uniform(c),
              "pw_w": r.uniform(c, c), "pw_b": r.uniform(c)}
    p1, s1 = bn_params(r, c, "bn1")
    p2, s2 = bn_params(r, c, "bn2")
    inputs.update(p1)
    inputs.update(p2)

    def convmixer(x, dw_w, dw_b, pw_w, pw_b, bn1_gamma, bn1_beta, bn2_gamma, bn2_beta, bn1_running_mean,
                  bn1_running_var, bn2_running_mean, bn2_running_var):
        t = gelu(depthwise_conv2d(x, dw_w, dw_b, padding="same"))
        t, rm1, rv1 = batch_norm(t, bn1_gamma, bn1_beta, bn1_running_mean, bn1_running_var, True)
        t = t + x
        t = gelu(linear(t, pw_w, pw_b))
        y, rm2, rv2 = batch_norm(t, bn2_gamma, bn2_beta, bn2_running_mean, bn2_running_var, True)
        return {"y": y, "bn1_running_mean_after": rm1, "bn1_running_var_after": rv1,
                "bn2_running_mean_after": rm2, "bn2_running_var_after": rv2}
    run_case(g, "convmixer_block", {"kernel_size": k}, inputs, convmixer, ["y"], r, {**s1, **s2})

    # ConvMixer stem: conv K = S = 2 valid -> GELU -> BN.
    r = Inputs("blocks/convmixer_stem")
    inputs = {"x": r.uniform(2, 6, 6, 3), "w": r.uniform(2, 2, 3, 6), "b": r.uniform(6)}
    p, s = bn_params(r, 6, "bn")
    inputs.update(p)

    def stem(x, w, b, bn_gamma, bn_beta, bn_running_mean, bn_running_var):
        t = gelu(conv2d(x, w, b, (2, 2), "valid"))
        y, rm, rv = batch_norm(t, bn_gamma, bn_beta, bn_running_mean, bn_running_var, True)
        return {"y": y, "bn_running_mean_after": rm, "bn_running_var_after": rv}
    run_case(g, "convmixer_stem", {"patch_size": 2}, inputs, stem, ["y"], r, s)

    # (b) ShiftViT block with dropout and drop path off: the MLP output is added to the
    # *shifted* x, as in the seed (shortcut = x after the shift).
    r = Inputs("blocks/shiftvit_block")
    c = 12
    inputs = {"x": r.uniform(1, 3, 5, c), "ln_gamma": r.uniform(c, lo=0.5, hi=1.5), "ln_beta": r.uniform(c),
              "fc1_w": r.uniform(c, 2 * c, lo=-0.5, hi=0.5), "fc1_b": r.uniform(2 * c),
              "fc2_w": r.uniform(2 * c, c, lo=-0.5, hi=0.5), "fc2_b": r.uniform(c)}

    def shiftvit(x, ln_gamma, ln_beta, fc1_w, fc1_b, fc2_w, fc2_b):
        shifted = channel_shift(x, 1, 1)
        t = layer_norm(shifted, ln_gamma, ln_beta, 1e-5)
        t = linear(gelu(linear(t, fc1_w, fc1_b)), fc2_w, fc2_b)
        return {"y": shifted + t}
    run_case(g, "shiftvit_block", {"group_channels": 1, "shift": 1, "eps": 1e-5}, inputs, shiftvit, ["y"], r)

    # ShiftViT PatchMerging: LayerNorm -> conv 2x2 stride 2 same, no bias, C -> 2C, on 3x3.
    r = Inputs("blocks/shiftvit_patch_merging")
    c = 4
    inputs = {"x": r.uniform(2, 3, 3, c), "ln_gamma": r.uniform(c, lo=0.5, hi=1.5), "ln_beta": r.uniform(c),
              "w": r.uniform(2, 2, c, 2 * c)}

    def merging(x, ln_gamma, ln_beta, w):
        return {"y": conv2d(layer_norm(x, ln_gamma, ln_beta, 1e-5), w, None, (2, 2), "same")}
    run_case(g, "shiftvit_patch_merging", {"eps": 1e-5}, inputs, merging, ["y"], r)

    # (c) Involution network: involution layer (train) -> ReLU -> MaxPool 2x2, at the seed's
    # configuration (C=3, G=1, K=3, S=1, r=2: one reduced channel) and with stride 2, G=2.
    run_involution_layer(g, "involution_head_c3_k3_s1_g1_r2", Inputs("blocks/involution_head_s1"), (2, 4, 6, 3),
                         3, 1, 1, 2, True, post="relu_maxpool2")
    run_involution_layer(g, "involution_head_c4_k3_s2_g2_r2", Inputs("blocks/involution_head_s2"), (1, 4, 8, 4),
                         3, 2, 2, 2, True, post="relu_maxpool2")

    # The conv baseline's first layer: conv 3x3 same (3 -> 5) -> ReLU -> MaxPool 2x2.
    r = Inputs("blocks/conv_baseline")
    inputs = {"x": r.uniform(1, 6, 6, 3), "w": r.uniform(3, 3, 3, 5), "b": r.uniform(5)}
    run_case(g, "conv_baseline_first_layer", {}, inputs,
             lambda x, w, b: {"y": max_pool2d(F.relu(conv2d(x, w, b, (1, 1), "same")), (2, 2), (2, 2), "valid")},
             ["y"], r)
    return g


# ---- the op table's golden column (CaseOptions::torch in tests/cases/*_cases.cpp) ----------

def read_dump(path):
    """The cases the CPU suite appended with PATCHNET_DUMP_CASES (support/case_golden.hpp)."""
    cases, cur, lines = [], None, open(path).read().split("\n")
    i = 0
    while i < len(lines):
        words = lines[i].split()
        i += 1
        if not words:
            continue
        if words[0] == "case":
            cur = {"name": words[1], "attrs": {}, "tensors": {}}
            cases.append(cur)
        elif words[0] == "attr":
            cur["attrs"][words[1]] = words[2:]
        elif words[0] == "tensor":
            shape = [int(d) for d in words[3][1:-1].split(",") if d]
            n, vals = math.prod(shape), []
            while len(vals) < n:
                vals += [float(v) for v in lines[i].split()]
                i += 1
            cur["tensors"][words[1]] = torch.tensor(vals, dtype=torch.float64).reshape(shape)
    return cases


def gen_cases(tests_binary):
    """Runs the CPU suite's op tables with PATCHNET_DUMP_CASES, then evaluates each row's
    expression in float64 with its inputs x0, x1, ... (those not in no_grad differentiated)."""
    import subprocess
    import tempfile
    g = GoldenFile("cases", "rows of the op table (tests/cases/*_cases.cpp) with a PyTorch expression "
                            "(CaseOptions::torch), evaluated on the row's inputs.")
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "cases.dump")
        env = dict(os.environ, PATCHNET_DUMP_CASES=dump)
        subprocess.run([tests_binary, "-tc=gradcheck: *", "--no-intro"], env=env, check=False,
                       stdout=subprocess.DEVNULL)
        cases = read_dump(dump) if os.path.exists(dump) else []
    seen = set()
    for c in sorted(cases, key=lambda c: c["name"]):
        name = c["name"]
        if name in seen:
            continue  # a row runs once per call of its table; the first dump is the same
        seen.add(name)
        expr = " ".join(c["attrs"]["torch"])
        no_grad = {int(v) for v in c["attrs"].get("no_grad", [])}
        xs = sorted((k for k in c["tensors"] if k.startswith("x")), key=lambda k: int(k[1:]))
        leaves = {k: c["tensors"][k].clone().requires_grad_(int(k[1:]) not in no_grad) for k in xs}
        y = eval(expr, globals(), dict(leaves))
        tensors = {k: c["tensors"][k] for k in xs}
        tensors["y"] = y
        tensors["grad_y"] = c["tensors"]["grad_y"]
        if y.requires_grad:
            y.backward(c["tensors"]["grad_y"])
            tensors.update({"grad_" + k: v.grad if v.grad is not None else torch.zeros_like(v)
                            for k, v in leaves.items() if v.requires_grad})
        g.case(name, {"torch": expr}, tensors)
    if not seen:
        raise SystemExit(f"{tests_binary}: no row with a torch expression ran (build the CPU suite first)")
    return g


def main():
    import argparse
    gens = {"matmul": gen_matmul, "elementwise": gen_elementwise, "conv": gen_conv, "norm": gen_norm,
            "pool": gen_pool, "activation": gen_activation, "shift_involution": gen_shift_involution,
            "blocks": gen_blocks, "cases": None}
    ap = argparse.ArgumentParser(description="Rewrites tests/golden/<family>.txt.")
    ap.add_argument("families", nargs="*", help=f"some of {', '.join(gens)} (default: all)")
    ap.add_argument("--tests", default="build/tests/patchnet_tests",
                    help="the CPU suite, for the op table's column (family cases)")
    args = ap.parse_args()
    for f in args.families:
        if f not in gens:
            ap.error(f"no family {f}")
    total = 0
    for name in args.families or gens:
        gen = gens[name] or (lambda: gen_cases(args.tests))
        path = gen().write()
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path)}: {size} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
