"""Loss+gradient of a 784-100-10 network on all 60,000 MNIST training images.

Compares pathtrack (the one-pass fused kernel, the layered kernels, both with the hybrid
first layer: BLAS for the dense centre columns, sparse passes for the rest; and a dense
first layer), a plain hand-written NumPy version and PyTorch CPU autograd (skipped with a
note when torch is absent), for the switch and ReLU activations in float32 and float64;
then the Hessian-vector and Gauss–Newton-vector products as multiples of one
loss+gradient. Implementations are timed round-robin, so load from other processes hits
all of them alike, with a short pause before each call; medians are printed.

    python benchmarks/bench_kernels.py [--repeats 7] [--threads N] [--pause 0.25] [--data-dir DIR]

Wall-clock medians decide the ratios; the medians of process CPU time are printed too,
since on a shared machine they show the work done even when the wall clock is inflated.
``--threads N`` pins Numba, BLAS and PyTorch to N threads (set before they load).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

np = None  # numpy and pathtrack are imported in main(), after --threads has set the environment

WIDTHS = [784, 100, 10]


def numpy_loss_grad(p, net, X, y, onehot, activation):
    """Straightforward NumPy: the same loss (mean cross-entropy, T = 1) and gradient."""
    (W1, b1), (W2, b2) = net.layers(p)
    m = X.shape[0]
    Z1 = X @ W1 + b1
    if activation == "switch":
        t = np.tanh(Z1 / 2)
        pos = Z1 > 0
        A1 = np.where(pos, t * t, 0.0).astype(X.dtype, copy=False)
        D1 = np.where(pos, t * (1 - t * t), 0.0).astype(X.dtype, copy=False)
    else:
        A1 = np.maximum(Z1, 0)
        D1 = (Z1 > 0).astype(X.dtype)
    Z2 = A1 @ W2 + b2
    Z2 = Z2 - Z2.max(axis=1, keepdims=True)
    E = np.exp(Z2)
    tot = E.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(tot[:, 0]) - Z2[np.arange(m), y])
    G2 = (E / tot - onehot) / m
    G1 = (G2 @ W2.T) * D1
    g = np.concatenate([(X.T @ G1).ravel(), G1.sum(axis=0), (A1.T @ G2).ravel(), G2.sum(axis=0)])
    return loss, g


def make_torch(net, X, y, activation):
    import torch

    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)

    def loss_grad(p):
        pt = torch.from_numpy(p).requires_grad_(True)
        (W1, b1), (W2, b2) = [(net.weights(pt, l), net.biases(pt, l)) for l in range(2)]
        Z1 = Xt @ W1 + b1
        if activation == "switch":
            A1 = torch.where(Z1 > 0, torch.tanh(Z1 / 2) ** 2, torch.zeros((), dtype=Z1.dtype))
        else:
            A1 = torch.relu(Z1)
        loss = torch.nn.functional.cross_entropy(A1 @ W2 + b2, yt)
        loss.backward()
        return loss.item(), pt.grad.numpy()

    return loss_grad


def median_times(funcs, args, repeats, pause=0.0):
    """Round-robin timing: ``({name: median wall s}, {name: median CPU s})``.

    ``pause`` seconds of sleep before each call let the previous implementation's idle
    threads stop spinning (OpenBLAS workers spin ~0.1 s after a call by default, OpenMP
    ones a little), so that no implementation pays for the one before it.
    """
    wall = {name: [] for name in funcs}
    cpu = {name: [] for name in funcs}
    for name, f in funcs.items():  # warm-up (compilation, first-touch of buffers)
        f(*args[0])
    for r in range(repeats):
        for name, f in funcs.items():
            time.sleep(pause)
            t, c = time.perf_counter(), time.process_time()
            f(*args[r % len(args)])
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    return ({name: float(np.median(ts)) for name, ts in wall.items()},
            {name: float(np.median(ts)) for name, ts in cpu.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="pin every library to this many threads")
    ap.add_argument("--pause", type=float, default=0.25,
                    help="seconds of sleep before each timed call, so idle thread pools stop spinning")
    ap.add_argument("--data-dir", default=os.environ.get("PATHTRACK_DATA",
                                                         str(Path(__file__).resolve().parents[2] / "shared" / "data")))
    args = ap.parse_args(argv)
    if args.threads:
        for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    global np
    from pathtrack import configure_threads

    configure_threads()  # before numpy loads (see pathtrack.threads.THREAD_ENV)
    import numpy as np

    from pathtrack.datasets import load_mnist
    from pathtrack.nn import LossFunction, Network
    try:
        import torch

        torch_note = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch = None
        torch_note = "torch not installed: PyTorch column skipped"
    import numba

    print(f"784-100-10, loss+gradient on 60,000 MNIST images; numba threads {numba.get_num_threads()}; {torch_note}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
          f"load average {os.getloadavg()[0]:.2f} at start; {args.pause} s pause before each call")
    head = f"{'dtype':8} {'act':7} {'fused s':>9} {'sparse s':>9} {'dense s':>9} {'numpy s':>9} {'torch s':>9} " \
           f"{'pt/torch':>9} {'pt/numpy':>9} {'hvp/grad':>9} {'gnvp/grad':>9}"
    print(head)
    print("-" * len(head))
    for dtype in (np.float32, np.float64):
        data = load_mnist("train", data_dir=args.data_dir, dtype=dtype)
        onehot = np.eye(10, dtype=dtype)[data.y]
        for activation in ("switch", "relu"):
            net = Network(WIDTHS, activation, dtype=dtype)
            fused = LossFunction(net, data.X, data.y, first_layer="sparse")
            sparse = LossFunction(net, data.X, data.y, first_layer="sparse", fused=False)
            dense = LossFunction(net, data.X, data.y, first_layer="dense")
            # alternate two points so that no call can reuse the previous forward pass
            points = [(net.init_params("glorot", seed=s),) for s in (0, 1)]
            v = net.init_params("glorot", seed=2)
            # own objects for the products, so they cannot reuse the forward pass of loss_and_grad
            hv = LossFunction(net, data.X, data.y, first_layer="sparse")
            gnv = LossFunction(net, data.X, data.y, first_layer="sparse")
            funcs = {"fused": fused.loss_and_grad, "sparse": sparse.loss_and_grad, "dense": dense.loss_and_grad,
                     "numpy": lambda p: numpy_loss_grad(p, net, data.X, data.y, onehot, activation),
                     "hvp": lambda p: hv.hvp(p, v), "gnvp": lambda p: gnv.gnvp(p, v)}
            if torch is not None:
                funcs["torch"] = make_torch(net, data.X, data.y, activation)
            # the implementations must agree before their times mean anything
            ref = numpy_loss_grad(points[0][0], net, data.X, data.y, onehot, activation)[1]
            for name in ("fused", "sparse", "dense") + (("torch",) if torch is not None else ()):
                g = funcs[name](points[0][0])[1]
                err = np.abs(g - ref).max() / np.abs(ref).max()
                assert err < (1e-3 if dtype == np.float32 else 1e-10), f"{name} gradient differs by {err:.2e}"
            t, cpu = median_times(funcs, points, args.repeats, args.pause)
            best = min(t["fused"], t["sparse"], t["dense"])
            tt = t.get("torch", float("nan"))
            print(f"{np.dtype(dtype).name:8} {activation:7} {t['fused']:9.4f} {t['sparse']:9.4f} {t['dense']:9.4f} {t['numpy']:9.4f} "
                  f"{tt:9.4f} {best / tt:9.2f} {best / t['numpy']:9.2f} {t['hvp'] / best:9.2f} "
                  f"{t['gnvp'] / best:9.2f}")
            print(f"{'  CPU s':16} " + " ".join(f"{cpu.get(k, float('nan')):9.4f}"
                                                 for k in ("fused", "sparse", "dense", "numpy", "torch")))
    print(f"load average {os.getloadavg()[0]:.2f} at end. pt = the faster pathtrack first layer; "
          "hvp/gnvp relative to that fastest loss+gradient.")


if __name__ == "__main__":
    main()
