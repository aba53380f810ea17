"""Train a 784-100-10 switch network on MNIST with Adam, from Python.

The same as ``pathtrack train mnist --hidden 100 --activation switch --epochs 6
--optimizer adam --lr 1e-3 --batch-size 128 --out mnist_adam.h5``.

    python docs/examples/train_mnist.py [--epochs 6] [--subset N] [--out FILE.h5]
"""

import argparse

import pathtrack

pathtrack.configure_threads()  # before numpy loads (see pathtrack.threads.THREAD_ENV)

import numpy as np  # noqa: E402

from pathtrack.datasets import load_mnist  # noqa: E402
from pathtrack.nn import Network  # noqa: E402
from pathtrack.nn.train import save_result, train  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Adam on MNIST, 784-100-10 switch network")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--subset", type=int, default=None, help="stratified subset of the training set")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="HDF5 file for parameters and curves")
    ap.add_argument("--force", action="store_true", help="overwrite --out")
    args = ap.parse_args()

    train_set = load_mnist("train", dtype=args.dtype, subset=args.subset, seed=args.seed)  # PATHTRACK_DATA or cache
    test_set = load_mnist("test", dtype=args.dtype)
    net = Network([784, 100, 10], activation="switch", dtype=np.dtype(args.dtype))
    result = train(net, train_set.X, train_set.y, optimizer="adam", lr=args.lr, epochs=args.epochs,
                   batch_size=args.batch_size, seed=args.seed, X_test=test_set.X, y_test=test_set.y)
    print("epoch  loss      train PR  test PR  time/s")
    for k in result.epoch:
        print(f"{k:5d}  {result.loss[k]:.5f}  {result.pr[k]:.4f}    {result.test_pr[k]:.4f}   {result.wall_time[k]:.1f}")
    if args.out:
        save_result(args.out, result, force=args.force, attrs={"dataset": "mnist", "subset": args.subset or 0})
        print("written", args.out)


if __name__ == "__main__":
    main()
