"""Deng's gradient-descent tunnelling on MNIST, from the command line.

Pretrains a 784-n-10 network (cached), builds the partner data, tracks the data homotopy
from λ = 0 to λ = 1 at 100% training PR, stores the whole path in HDF5, verifies the
final PR from scratch and draws Deng's Fig. 2 for p0 and the final parameters.

    python docs/examples/mnist_gdt.py --hidden 100 --out deng100.h5
    python docs/examples/mnist_gdt.py --hidden 100 --out deng100.h5 --resume   # after a kill
    python docs/examples/mnist_gdt.py --hidden 32 --subset 2000 --pretrain-epochs 5 --out small.h5 --force
    python docs/examples/mnist_gdt.py --hidden 100 --activation relu --temperature 100 --out relu100.h5

At a temperature T ≠ 1 a ReLU network is pretrained with its initialisation and learning
rate scaled by T^(1/2) (``pathtrack_problems.deng.temperature_scale``), and the margin κ is in units
of z/T, so the run behaves as it does at T = 1.

The same run through the CLI: ``pathtrack run deng-mnist --set hidden=100 --out deng100.h5``.
"""

import argparse
import time

import pathtrack

pathtrack.configure_threads()  # before numpy loads (see pathtrack.threads.THREAD_ENV)

from pathtrack import TrackerOptions, track  # noqa: E402
from pathtrack.hdf5 import PathWriter  # noqa: E402
from pathtrack.nn import LossFunction  # noqa: E402
from pathtrack_problems.deng import DengMNIST  # noqa: E402
from pathtrack_problems.deng.plots import plot_output_triangle  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Deng's data homotopy on MNIST")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--activation", default="switch", choices=["switch", "relu", "tanh", "sigmoid"])
    ap.add_argument("--temperature", type=float, default=1.0, help="softmax temperature (Deng: 100 with ReLU)")
    ap.add_argument("--subset", type=int, default=0, help="stratified subset size (0: all 60,000)")
    ap.add_argument("--pretrain-epochs", type=int, default=15)
    ap.add_argument("--partner", default="margin", choices=["margin", "random"])
    ap.add_argument("--variant", default="input", choices=["input", "label"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, help="HDF5 file for the path")
    ap.add_argument("--force", action="store_true", help="overwrite --out")
    ap.add_argument("--resume", action="store_true", help="continue the run stored in --out")
    ap.add_argument("--fig", default="", help="also save Deng's Fig. 2 here (PNG)")
    args = ap.parse_args()

    pb = DengMNIST(hidden=args.hidden, activation=args.activation, temperature=args.temperature,
                   subset=args.subset, pretrain_epochs=args.pretrain_epochs, partner=args.partner,
                   variant=args.variant, seed=args.seed)
    print(f"p0: PR {pb.pr0:.4%} ({pb.partners.erred.size} misclassified), test {pb.test.accuracy(pb.p0):.4f}")
    options = TrackerOptions(**pb.default_options)
    t0 = time.perf_counter()
    if args.resume:
        writer, state, start = PathWriter.resume(args.out, pb, options)
        result = track(pb, start.p, start.lam, options=options, observers=[writer], resume=state, progress=True)
    else:
        writer = PathWriter.create(args.out, pb, options, force=args.force)
        result = track(pb, options=options, observers=[writer], progress=True)
    print(f"{result.status}: {result.n_accepted} accepted, {result.n_rejected} rejected λ steps, "
          f"{result.counters['n_grad_evals']} gradients, {time.perf_counter() - t0:.1f} s")
    pr = pb.verify(result.p_end)
    print(f"verified PR at λ = {result.lam_end}: {pr:.4%}; test accuracy {pb.test.accuracy(result.p_end):.4f}")
    if args.fig:
        lf = LossFunction(pb.net, pb.X, pb.y)
        plot_output_triangle([lf.outputs(pb.p0), lf.outputs(result.p_end.astype(pb.net.dtype))], pb.y,
                             [f"p0 (PR {pb.pr0:.2%})", f"final (PR {pr:.2%})"], out=args.fig)
        print(f"figure written to {args.fig}")


if __name__ == "__main__":
    main()
