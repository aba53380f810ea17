"""Full-batch gradient and HVP sharded over dask workers against the single-process kernels.

On all 60,000 MNIST training images, for 784-n-10 switch networks (n = 20 and 100, float32,
the summed margin loss of ``deng-mnist``), times per call:

- ``local``: :class:`pathtrack.nn.LossFunction` in this process (Numba on all its threads),
- ``dask``: :class:`pathtrack.nn.distributed.ShardedLossFunction` with one shard per worker,
- ``round trip``: the same map-reduce (send p, return a gradient-sized vector from each
  shard, add them) with no computation: the communication cost per call.

Calls are timed round-robin (local, dask, round trip), so load from other processes hits
them alike; medians are printed, with the dask/local ratio.

    python benchmarks/bench_dask_grad.py [--scheduler local:2] [--repeats 7] [--widths 20,100]

``--scheduler`` takes ``local:N`` (N single-threaded worker processes started here) or a
running scheduler's address (``dask scheduler`` / ``dask worker ADDRESS``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scheduler", default="local:2", help="local:N or a dask scheduler address")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--widths", default="20,100", help="hidden widths, comma-separated")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--subset", type=int, default=0, help="class-stratified subset (0: all 60,000 images)")
    ap.add_argument("--data-dir", default=os.environ.get("PATHTRACK_DATA",
                                                          str(Path(__file__).resolve().parents[1].parent
                                                              / "shared" / "data")))
    args = ap.parse_args(argv)

    from pathtrack.threads import configure_threads

    configure_threads()
    import numpy as np

    from pathtrack.datasets import load_mnist
    from pathtrack.nn import LossFunction, Network
    from pathtrack.nn.distributed import ShardedLossFunction, connect

    data = load_mnist("train", data_dir=args.data_dir, dtype=args.dtype, subset=args.subset or None, seed=0)
    client = connect(args.scheduler)
    nthreads = client.nthreads()
    print(f"MNIST train, {data.y.size} images, {args.dtype}; dask: {len(nthreads)} workers "
          f"({', '.join(str(t) for t in nthreads.values())} threads) at {client.scheduler.address}")
    print(f"{'n':>4} {'call':<14} {'local/ms':>9} {'dask/ms':>9} {'dask/local':>10} {'round trip/ms':>14} "
          f"{'max rel diff':>12}")
    rng = np.random.default_rng(0)
    for hidden in [int(h) for h in args.widths.split(",")]:
        net = Network([784, hidden, 10], activation="switch", dtype=args.dtype)
        kw = dict(loss="margin", kappa=0.5, weights=np.ones(data.y.size))
        local = LossFunction(net, data.X, data.y, **kw)
        t0 = time.perf_counter()
        sharded = ShardedLossFunction(net, data.X, data.y, client=client, **kw)
        t_setup = time.perf_counter() - t0
        p = net.init_params("glorot", seed=0)
        v = rng.standard_normal(net.n_params).astype(net.dtype)
        calls = {"loss+gradient": (lambda f: f.loss_and_grad(p)[1]), "HVP": (lambda f: f.hvp(p, v))}
        for name, call in calls.items():
            diff = np.max(np.abs(call(sharded) - call(local))) / np.max(np.abs(call(local)))  # also warms up
            sharded.echo(p)
            times = {"local": [], "dask": [], "echo": []}
            for _ in range(args.repeats):
                for key, fn in (("local", lambda: call(local)), ("dask", lambda: call(sharded)),
                                ("echo", lambda: sharded.echo(p))):
                    t0 = time.perf_counter()
                    fn()
                    times[key].append(time.perf_counter() - t0)
            med = {k: 1e3 * float(np.median(t)) for k, t in times.items()}
            print(f"{hidden:>4} {name:<14} {med['local']:>9.1f} {med['dask']:>9.1f} "
                  f"{med['dask'] / med['local']:>10.2f} {med['echo']:>14.1f} {diff:>12.1e}")
        print(f"{hidden:>4} (scatter and shard set-up once: {t_setup:.1f} s)")
        del sharded


if __name__ == "__main__":
    main()
