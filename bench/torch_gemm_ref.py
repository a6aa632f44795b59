"""PyTorch reference for the GEMM benchmark: GFLOP/s of square C = A @ B (float32, CPU).

Run as:  OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/torch_gemm_ref.py --threads 1 [--linear]
Prints one line per (n, threads) in the same format as `Pipelines.Benchmarks gemm` (and, with
--linear, `Pipelines.Benchmarks linear`): best of several repetitions after a warm-up.

This Debian torch 1.13 calls the system OpenBLAS 0.3.21 (pthread build, Haswell AVX2 kernels on this
Zen 5 machine), whose thread count comes from OPENBLAS_NUM_THREADS; --threads only sets
torch.set_num_threads (the OpenMP pool for non-BLAS ops). OPENBLAS_NUM_THREADS=2 with --threads 1 is
the best setting here: --threads 2 oversubscribes the two cores and is several times slower on Linear.
Linear backward is timed as PyTorch's autograd computes it: dX += dY·W, dW += dYᵀ·X, db += Σ dY.
"""
import argparse
import os
import time

import torch


def best_seconds(function, repetitions, minimum_seconds=0.2):
    function()  # warm-up
    best = float("inf")
    for _ in range(repetitions):
        calls = 0
        start = time.perf_counter()
        while True:
            function()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= minimum_seconds:
                break
        best = min(best, elapsed / calls)
    return best


def square(sizes, threads, repetitions):
    for n in sizes:
        generator = torch.Generator().manual_seed(n)
        a = torch.randn(n, n, generator=generator)
        b = torch.randn(n, n, generator=generator)
        c = torch.empty(n, n)
        seconds = best_seconds(lambda: torch.matmul(a, b, out=c), repetitions)
        print(f"gemm n={n:5d} threads={threads} {2.0 * n ** 3 / seconds / 1e9:8.1f} GFLOP/s")


def linear(rows, shapes, threads, repetitions):
    for in_channels, out_channels in shapes:
        generator = torch.Generator().manual_seed(in_channels * 7 + out_channels)
        x = torch.randn(rows, in_channels, generator=generator)
        w = torch.randn(out_channels, in_channels, generator=generator)
        bias = torch.randn(out_channels, generator=generator)
        dy = torch.randn(rows, out_channels, generator=generator)
        dx = torch.zeros(rows, in_channels)
        dw = torch.zeros(out_channels, in_channels)
        db = torch.zeros(out_channels)
        flops = 2.0 * rows * in_channels * out_channels

        def forward():
            torch.nn.functional.linear(x, w, bias)

        def backward():
            dx.addmm_(dy, w)
            dw.addmm_(dy.t(), x)
            db.add_(dy.sum(0))

        forward_seconds = best_seconds(forward, repetitions)
        backward_seconds = best_seconds(backward, repetitions)
        print(f"linear rows={rows} in={in_channels:5d} out={out_channels:5d} threads={threads} "
              f"forward {flops / forward_seconds / 1e9:8.1f} GFLOP/s  "
              f"backward {2 * flops / backward_seconds / 1e9:8.1f} GFLOP/s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch.set_num_threads values to measure")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--linear", action="store_true", help="also time the training Linear shapes")
    arguments = parser.parse_args()
    print(f"torch {torch.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    shapes = [(256, 768), (256, 256), (256, 1024), (1024, 256), (256, 2048)]
    for threads in arguments.threads:
        torch.set_num_threads(threads)
        square(arguments.sizes, threads, arguments.repetitions)
        if arguments.linear:
            linear(1024, shapes, threads, arguments.repetitions)


if __name__ == "__main__":
    main()
