"""Full-batch losses sharded over ``dask.distributed`` workers: :class:`ShardedLossFunction`.

The training set is split into contiguous row shards, scattered once; each shard lives
on its worker inside a dask *actor* that owns an ordinary :class:`~.model.LossFunction`
over those rows (the same kernels, no copy of them). Every evaluation sends ``p`` (and
``v``) to all shards at once, each returns its weighted partial sum, and the client adds
the parts in shard order in float64, so a result does not depend on which worker answers
first. Per-sample outputs (margins, losses) come back concatenated in row order. The
corrector, the tracker and the HDF5 writer stay in the client.

``distributed`` is optional (the ``distributed`` extra): it is imported only by
:func:`connect`, never by ``import pathtrack`` or ``import pathtrack.nn``.

Addresses: ``'local:N'`` starts a ``LocalCluster`` of N single-threaded worker processes
in this process (shared by later calls with the same text); anything else is a scheduler
address, e.g. ``'tcp://10.0.0.5:8786'`` of a cluster started with ``dask scheduler`` and
``dask worker ADDRESS``.
"""

from __future__ import annotations

import atexit
from typing import Dict, List, Optional, Tuple

import numpy as np

from .model import LossFunction, Network, select_rows

__all__ = ["SchedulerError", "ShardedLossFunction", "connect", "loss_function"]

# Seconds to wait for a scheduler (and for its first worker) before a one-line error.
CONNECT_TIMEOUT = 10.0

_clients: Dict[str, object] = {}  # address text -> Client (and its LocalCluster), one per process
_exit_hook = False


class SchedulerError(ValueError):
    """A scheduler address that cannot be used, or no ``distributed`` package (one line)."""


def connect(address):
    """A ``dask.distributed`` Client for ``address`` (``'local:N'`` or a scheduler address).

    A Client passes through. The same address text gives the same Client for the life of
    the process; clusters started here are closed at exit.

    Raises
    ------
    SchedulerError
        ``distributed`` is not installed, the address is malformed, nothing answers at it
        within :data:`CONNECT_TIMEOUT` seconds, or the cluster has no workers.
    """
    if hasattr(address, "nthreads") and hasattr(address, "submit"):
        return address
    text = str(address).strip()
    if text in _clients and _clients[text].status == "running":
        return _clients[text]
    try:
        import distributed
    except ImportError:
        raise SchedulerError(f"scheduler {text!r} needs the 'distributed' package: "
                             "pip install 'pathtrack[distributed]'") from None
    if text.startswith("local:"):
        n = text[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise SchedulerError(f"scheduler {text!r}: expected local:N with N a positive number of workers")
        cluster = distributed.LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        client._pathtrack_cluster = cluster
    else:
        if not text or any(c.isspace() for c in text):
            raise SchedulerError(f"scheduler {text!r} is not an address "
                                 "(host:port, tcp://host:port or local:N)")
        try:
            client = distributed.Client(text, timeout=CONNECT_TIMEOUT)
        except (OSError, ValueError, TypeError) as exc:  # timeouts are OSErrors; bad texts ValueErrors
            raise SchedulerError(f"no dask scheduler answers at {text!r}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    if not client.nthreads():
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            address = client.scheduler.address
            client.close()
            raise SchedulerError(f"the dask scheduler at {text!r} has no workers "
                                 f"(start some with: dask worker {address})") from None
    global _exit_hook
    if not _exit_hook:  # registered after distributed's own exit hooks, so it runs before them
        atexit.register(_close_clients)
        _exit_hook = True
    _clients[text] = client
    return client


def _close_clients() -> None:
    import logging

    # worker processes that ran Numba's OpenMP kernels can take over the nanny's 4 s to exit; it
    # then kills them, which at this point is what was asked for, not a warning for the user
    logging.getLogger("distributed.nanny").setLevel(logging.ERROR)
    for client in list(_clients.values()):
        cluster = getattr(client, "_pathtrack_cluster", None)
        try:
            client.close()
            if cluster is not None:
                cluster.close()
        except Exception:  # interpreter shutdown: nothing useful left to report
            pass
    _clients.clear()


class _Shard:
    """A dask actor: one shard's :class:`LossFunction`, resident on its worker."""

    def __init__(self, net: Network, X, y, kwargs: dict, weights, n_threads: int):
        self.lf = LossFunction(net, X, y, **kwargs)
        self.lf.set_weights(weights)
        self.n_threads = n_threads

    def call(self, method: str, *args):
        """``lf.method(*args)`` on this worker's threads (Numba's setting is per thread)."""
        import numba

        numba.set_num_threads(max(1, min(self.n_threads, numba.config.NUMBA_NUM_THREADS)))
        return getattr(self.lf, method)(*args)

    def set_kappa(self, kappa: float) -> None:
        self.lf.kappa = kappa
        self.lf.set_weights(self.lf.w.copy())  # drops the cached forward pass

    def rows(self, idx):
        return self.lf.X[idx], self.lf.y[idx]

    def echo(self, p, *rest):
        """The no-op of the communication benchmark: a reply of a gradient's size."""
        return 0.0, np.zeros_like(p)


class ShardedLossFunction:
    """:class:`LossFunction`'s full-batch API with the rows sharded over dask workers.

    ``loss``, ``loss_and_grad``, ``grad``, ``hvp``, ``gnvp``, ``margins``, ``correct``,
    ``accuracy``, ``per_sample_losses``, ``logits``, ``outputs``, ``set_weights``,
    ``set_temperature``, ``kappa`` and ``rows`` behave as on a LossFunction over all rows
    (to float rounding: the sum is split at the shard boundaries).

    Parameters
    ----------
    net : Network
    X, y : arrays
        Training data in the client; scattered once, then only ``p`` and results travel.
    client : str or dask.distributed.Client
        See :func:`connect`.
    n_shards : int, optional
        Default: one per worker. Shard k goes to the k-th worker in address order.
    subset, weights, loss, kappa, first_layer, fused, max_sparse_fraction
        As for :class:`LossFunction` (``weights`` default ``1/m`` over all selected rows).
    """

    def __init__(self, net: Network, X, y, *, client, n_shards: Optional[int] = None, subset=None,
                 weights=None, **kwargs):
        self.net = net
        self.client = connect(client)
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] != net.widths[0] or y.shape != (X.shape[0],):
            raise ValueError(f"X must have shape (n, {net.widths[0]}), n >= 1, and y shape (n,), "
                             f"got {X.shape} and {y.shape}")
        X, y = select_rows(X, y, subset)  # gathered once, here; each shard's LossFunction checks the rest
        nthreads = self.client.nthreads()
        workers = sorted(nthreads)
        n_shards = len(workers) if n_shards is None else int(n_shards)
        if not 1 <= n_shards <= X.shape[0]:
            raise ValueError(f"n_shards must lie in 1..{X.shape[0]}, got {n_shards}")
        self.n_samples = int(X.shape[0])
        self.bounds = np.arange(n_shards + 1, dtype=np.int64) * self.n_samples // n_shards  # contiguous rows
        self.loss_name = kwargs.get("loss", "cross_entropy")
        self._kappa = float(kwargs.get("kappa", 1.0))
        w = self._split_weights(weights)
        self.workers: List[str] = []
        self._futures = []  # the actors' futures: holding them keeps the actors alive
        self._actors = []
        for k in range(n_shards):
            lo, hi = self.bounds[k], self.bounds[k + 1]
            worker = workers[k % len(workers)]
            Xk, yk = self.client.scatter([X[lo:hi], y[lo:hi]], workers=[worker], broadcast=False)
            fut = self.client.submit(_Shard, net, Xk, yk, kwargs, w[k], nthreads[worker], actor=True,
                                     workers=[worker], allow_other_workers=False, pure=False)
            self.workers.append(worker)
            self._futures.append(fut)
        self._actors = [fut.result() for fut in self._futures]  # raises a bad argument's ValueError here

    # --- map and reduce ---------------------------------------------------------------------

    def _map(self, method: str, *args) -> list:
        """``method(*args)`` on every shard at once; the results in shard order."""
        futures = [a.call(method, *args) for a in self._actors]
        return [f.result() for f in futures]

    def _each(self, method: str, args_per_shard) -> list:
        futures = [getattr(a, method)(*args) for a, args in zip(self._actors, args_per_shard)]
        return [f.result() for f in futures]

    def _sum(self, parts) -> np.ndarray:
        total = np.zeros(self.net.n_params, np.float64)
        for g in parts:  # shard order: the same sum on every run
            total += g
        return total.astype(self.net.dtype)

    def _split_weights(self, weights) -> list:
        m = self.n_samples
        if weights is None:
            weights = np.full(m, 1.0 / m)
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (m,):
            raise ValueError(f"weights must have shape ({m},) (one per selected sample), got {weights.shape}")
        if not np.isfinite(weights).all() or (weights < 0).any():
            raise ValueError("weights must be finite and non-negative")
        return [weights[lo:hi] for lo, hi in zip(self.bounds[:-1], self.bounds[1:])]

    # --- set-up -----------------------------------------------------------------------------

    def set_weights(self, weights=None) -> None:
        """Replace the per-sample weights (default ``1/m`` over all rows)."""
        self._each("call", [("set_weights", w) for w in self._split_weights(weights)])

    def set_temperature(self, temperature: float) -> None:
        """As :meth:`LossFunction.set_temperature`, on every shard."""
        self._map("set_temperature", temperature)

    @property
    def kappa(self) -> float:
        """Margin of the margin loss; setting it moves every shard."""
        return self._kappa

    @kappa.setter
    def kappa(self, value: float) -> None:
        self._each("set_kappa", [(float(value),)] * len(self._actors))
        self._kappa = float(value)

    def rows(self, idx) -> Tuple[np.ndarray, np.ndarray]:
        """Inputs and labels of the selected rows ``idx`` (fetched from their shards)."""
        idx = np.asarray(idx, dtype=np.int64)
        shard = np.searchsorted(self.bounds, idx, side="right") - 1
        parts = self._each("rows", [(idx[shard == k] - self.bounds[k],) for k in range(len(self._actors))])
        X = np.empty((idx.size, self.net.widths[0]), self.net.dtype)
        y = np.empty(idx.size, np.int64)
        for k, (Xk, yk) in enumerate(parts):
            X[shard == k], y[shard == k] = Xk, yk
        return X, y

    # --- evaluations ------------------------------------------------------------------------

    def loss(self, p) -> float:
        """``L(p)``: the shards' partial sums."""
        return float(sum(self._map("loss", self.net.check_params(p))))

    def loss_and_grad(self, p) -> Tuple[float, np.ndarray]:
        """``(L(p), ∇L(p))``; one round trip."""
        parts = self._map("loss_and_grad", self.net.check_params(p))
        return float(sum(f for f, _ in parts)), self._sum(g for _, g in parts)

    def grad(self, p) -> np.ndarray:
        """``∇L(p)``."""
        return self.loss_and_grad(p)[1]

    def hvp(self, p, v) -> np.ndarray:
        """Hessian-vector product ``∇²L(p) v``."""
        return self._sum(self._map("hvp", self.net.check_params(p), self.net.check_params(v, "v")))

    def gnvp(self, p, v) -> np.ndarray:
        """Gauss–Newton-vector product."""
        return self._sum(self._map("gnvp", self.net.check_params(p), self.net.check_params(v, "v")))

    def echo(self, p) -> Tuple[float, np.ndarray]:
        """A round trip of a gradient's shape that computes nothing (communication cost)."""
        parts = self._each("echo", [(self.net.check_params(p),)] * len(self._actors))
        return float(sum(f for f, _ in parts)), self._sum(g for _, g in parts)

    def _rows(self, method: str, p) -> np.ndarray:
        return np.concatenate(self._map(method, self.net.check_params(p)))

    def per_sample_losses(self, p) -> np.ndarray:
        """Unweighted per-sample losses, in row order."""
        return self._rows("per_sample_losses", p)

    def logits(self, p) -> np.ndarray:
        return self._rows("logits", p)

    def outputs(self, p) -> np.ndarray:
        return self._rows("outputs", p)

    def margins(self, p) -> np.ndarray:
        """Per-sample logit margins, in row order."""
        return self._rows("margins", p)

    def correct(self, p) -> np.ndarray:
        return self.margins(p) > 0

    def accuracy(self, p) -> float:
        """PR over all rows."""
        return float(np.mean(self.correct(p)))


def loss_function(net: Network, X, y, *, scheduler=None, **kwargs):
    """A :class:`LossFunction`, or with ``scheduler`` (address or Client) a :class:`ShardedLossFunction`."""
    if scheduler is None or (isinstance(scheduler, str) and not scheduler.strip()):
        return LossFunction(net, X, y, **kwargs)
    return ShardedLossFunction(net, X, y, client=scheduler, **kwargs)
