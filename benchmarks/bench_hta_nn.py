"""HTA on a small fully connected network (MNIST subset) vs plain L-BFGS and Adam at equal gradient work.

    python benchmarks/bench_hta_nn.py --train 1000 --hidden 16 --seeds 0,1,2   # the table of docs/hta.md
    python benchmarks/bench_hta_nn.py --train 200 --test 200 --hidden 4 --seeds 0   # seconds

A ``n_in–hidden–10`` tanh :class:`pathtrack.nn.Network` with mean softmax cross-entropy plus
``10⁻⁴‖w‖²`` (:class:`pathtrack_problems.hta.network.NetworkObjective`) on the first ``--train``
MNIST training images (:mod:`pathtrack.datasets`; ``PATHTRACK_DATA`` names the data
directory). HTA (split by layers, anchors at the initial weights, L-BFGS corrector) runs
first; L-BFGS and full-batch Adam (:class:`pathtrack.optim.Adam`) from the same
initialisation then get as many ∇f evaluations as HTA used (one ∇F counts as two).
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pathtrack.datasets import load_mnist  # noqa: E402
from pathtrack.nn import LossFunction, Network  # noqa: E402
from pathtrack.optim import Adam  # noqa: E402
from pathtrack_problems.hta.network import NetworkObjective, train_hta  # noqa: E402


def load_data(n_train: int = 1000, n_test: int = 2000, data_dir=None):
    """The first ``n_train`` training and ``n_test`` test images (float64 in [0, 1]) with labels."""
    train, test = (load_mnist(split, dtype=np.float64, data_dir=data_dir) for split in ("train", "test"))
    return train.X[:n_train], train.y[:n_train], test.X[:n_test], test.y[:n_test]


def train_lbfgs(f: NetworkObjective, w0, budget: int) -> Tuple[np.ndarray, int]:
    """scipy L-BFGS on f with at most ``budget`` gradient evaluations (a line search may overrun it)."""
    res = minimize(lambda w: (f(w), f.grad(w)), w0, jac=True, method="L-BFGS-B",
                   options={"maxfun": budget, "maxiter": budget, "gtol": 0.0, "ftol": 0.0})
    return res.x, int(res.nfev)


def train_adam(f: NetworkObjective, w0, budget: int, lr: float = 1e-2) -> Tuple[np.ndarray, int]:
    """Full-batch Adam for ``budget`` steps (one gradient each)."""
    w = np.array(w0, dtype=float)
    opt = Adam(w, lr)
    for _ in range(budget):
        opt.step(w, f.grad(w))
    return w, budget


def compare(n_train: int = 1000, n_test: int = 2000, hidden: int = 16, seeds=(0,), split: str = "layers",
            data_dir: Optional[Path] = None, weight_decay: float = 1e-4, **hta_kwargs) -> list:
    """For each seed: HTA, then L-BFGS and Adam with HTA's number of ∇f evaluations."""
    xtr, ytr, xte, yte = load_data(n_train, n_test, data_dir)
    net = Network([xtr.shape[1], hidden, 10], activation="tanh")
    f = NetworkObjective(LossFunction(net, xtr, ytr), weight_decay)
    test = LossFunction(net, xte, yte)
    rows = []
    for seed in seeds:
        w0 = net.init_params("glorot", seed=seed)
        t0 = time.perf_counter()
        w_h, evals, diag = train_hta(f, w0, split=split, seed=seed, **hta_kwargs)
        t_h = time.perf_counter() - t0
        row = {"seed": seed, "n_params": f.n, "grad_evals": evals, "hta_diag": diag}
        for name, w, t in [("hta", w_h, t_h)] + [
                (name, *_timed(trainer, f, w0, evals)) for name, trainer in (("lbfgs", train_lbfgs),
                                                                             ("adam", train_adam))]:
            row[name] = {"train_loss": f(w), "train_acc": f.loss.accuracy(w), "test_acc": test.accuracy(w),
                         "wall": t}
        rows.append(row)
    return rows


def _timed(trainer, f, w0, budget):
    t0 = time.perf_counter()
    w, _ = trainer(f, w0, budget)
    return w, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--split", default="layers")
    ap.add_argument("--data-dir", default=None, help="data directory (default: PATHTRACK_DATA, then the cache)")
    args = ap.parse_args(argv)
    rows = compare(args.train, args.test, args.hidden, [int(s) for s in args.seeds.split(",")], args.split,
                   args.data_dir)
    print("| seed | params | ∇f evals | method | train loss | train acc | test acc | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        for m in ("hta", "lbfgs", "adam"):
            d = r[m]
            print(f"| {r['seed']} | {r['n_params']} | {r['grad_evals']} | {m} | {d['train_loss']:.4f} "
                  f"| {d['train_acc']:.3f} | {d['test_acc']:.3f} | {d['wall']:.1f} |")
        print(f"# seed {r['seed']}: HTA path {r['hta_diag']}")
    return rows


if __name__ == "__main__":
    main()
