#!/usr/bin/python3
"""One command for the whole-step figures of docs/performance.md: patchnet's training step of
each example model (bench/step_bench.cpp) beside PyTorch's (bench/pytorch_steps.py, plain and
channels_last), and the machine's ceilings (bench/machine_bench.cpp), as one table; then where
patchnet's step goes (bench/step_profile.cpp: forward time per layer type, backward per op).

    /usr/bin/python3 bench/steps.py [--build build] [--reps 5]

Needs a Release build with the benchmarks (cmake --preset default && cmake --build --preset
default) and Debian's python3-torch with libopenblas0-pthread. Takes about 5 minutes on 2
cores. Run it on a quiet machine: the two libraries take turns, never run at once, and the
load average is printed with the table.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_steps  # noqa: E402


def run_patchnet(bench, min_time):
    out = subprocess.run([bench, "--benchmark_filter=^(step|peak|gemm|triad)", "--benchmark_format=json",
                          f"--benchmark_min_time={min_time}"], check=True, capture_output=True, text=True).stdout
    rows = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            rows[b["name"]] = {"error": b.get("error_message", "error")}
        else:
            rows[b["name"]] = b
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="the build folder with bench/patchnet_bench")
    ap.add_argument("--reps", type=int, default=5, help="PyTorch steps timed per model (median)")
    ap.add_argument("--min-time", default="3", help="patchnet: --benchmark_min_time per case, seconds")
    ap.add_argument("--no-profile", action="store_true", help="skip the per-op breakdown")
    args = ap.parse_args()
    bench = os.path.join(args.build, "bench", "patchnet_bench")
    if not os.access(bench, os.X_OK):
        raise SystemExit(f"steps.py: no {bench}; build the default preset first")
    load = os.getloadavg()[0]
    pn = run_patchnet(bench, args.min_time)
    blas = pytorch_steps.blas_check()
    import torch
    torch.set_num_threads(os.cpu_count())
    pt = {n: pytorch_steps.time_step(n, False, args.reps, 2) for n in pytorch_steps.MODELS}
    ptcl = {n: pytorch_steps.time_step(n, True, args.reps, 2) for n in pytorch_steps.MODELS}

    def rate(name, key="FLOP/s"):
        b = pn.get(name, {})
        return b.get(key) if "error" not in b else None

    peak1, peak2 = rate("peak/fma_f32/real_time/threads:1"), rate("peak/fma_f32/real_time/threads:2")
    bf1, bf2 = rate("peak/dpbf16/real_time/threads:1"), rate("peak/dpbf16/real_time/threads:2")
    amx1, amx2 = rate("peak_amx/real_time/threads:1"), rate("peak_amx/real_time/threads:2")
    print(f"load average {load:.2f} before the run; {os.cpu_count()} CPUs; torch {torch.__version__} "
          f"({torch.get_num_threads()} threads, BLAS {blas})\n")
    print("ceilings")
    g = lambda v: f"{v / 1e9:.0f} GFLOP/s" if v else "n/a"
    print(f"  FMA float32: {g(peak1)} on 1 thread, {g(peak2)} on 2;  bf16 (vdpbf16ps): {g(bf1)} on 1, {g(bf2)} on 2;"
          f"  bf16 (AMX tiles): {g(amx1)} on 1, {g(amx2)} on 2")
    for name, b in pn.items():  # in the benchmark's order
        if name.startswith("gemm/") and "error" not in b:
            m, n, k, kind = name.split("/")[1:5]
            a_txt = f"[{k},{m}]^T" if kind == "1" else f"[{m},{k}]"
            b_txt = f"[{n},{k}]^T" if kind == "2" else f"[{k},{n}]"
            e = pn.get(name.replace("gemm/", "gemm_eigen/", 1), {})
            eig = f"; Eigen {e['FLOP/s'] / 1e9:.0f}" if e.get("FLOP/s") else ""
            h = pn.get(name.replace("gemm/", "gemm_bf16/", 1), {})
            eig += f"; bf16 policy {h['FLOP/s'] / 1e9:.0f}" if h.get("FLOP/s") else ""
            print(f"  cpu::gemm {a_txt} x {b_txt}: {b['FLOP/s'] / 1e9:.0f} GFLOP/s"
                  + (f" ({b['FLOP/s'] / peak2:.0%} of the float32 peak)" if peak2 else "") + eig)
        if name.startswith("triad") and "error" not in b:
            print(f"  memory (triad, 2 reads + 1 write): {b['bytes_per_second'] / 1e9:.1f} GB/s")
    print()
    head = (f"{'model, batch':28s} {'GFLOP':>7s} {'patchnet ms':>12s} {'img/s':>7s} {'GFLOP/s':>8s} {'of peak':>8s} "
            f"{'PyTorch ms':>11s} {'PT c_last ms':>13s} {'speed-up':>9s} {'bf16 ms':>8s}")
    print(head)
    for name in pytorch_steps.MODELS:
        b = pn.get(f"step/{name}/real_time", {})
        if "error" in b or not b:
            print(f"{name:28s} patchnet: {b.get('error', 'not run')}")
            continue
        ms = b["real_time"]  # the benchmark's unit is ms
        best = min(pt[name], ptcl[name]) * 1e3
        print(f"{name:28s} {b['GFLOP/step']:7.2f} {ms:12.1f} {b['items_per_second']:7.0f} {b['FLOP/s'] / 1e9:8.1f} "
              + (f"{b['FLOP/s'] / peak2:8.0%} " if peak2 else f"{'':8s} ")
              + f"{pt[name] * 1e3:11.1f} {ptcl[name] * 1e3:13.1f} {best / ms:8.2f}x "
              + (f"{h['real_time']:8.1f}" if (h := pn.get(f"step_bf16/{name}/real_time", {})).get("real_time") else "     n/a"))
    print("\nspeed-up: PyTorch's faster layout over patchnet; 'of peak': of the 2-thread float32 FMA peak;"
          " bf16 ms: patchnet's step under --matmul-precision bf16 (AMX or AVX512-BF16 GEMMs)")
    if not args.no_profile:
        print("\nwhere patchnet's step goes (bench/step_profile.cpp, nn::Profiler)\n")
        sys.stdout.flush()
        profile = os.path.join(args.build, "bench", "patchnet_step_profile")
        subprocess.run([profile, "--steps", "3"], check=True)
        print("\nthe same under --matmul-precision bf16\n")
        sys.stdout.flush()
        subprocess.run([profile, "--steps", "3", "--matmul-precision", "bf16"], check=True)


if __name__ == "__main__":
    main()
