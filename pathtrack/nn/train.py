"""Conventional training (SGD with momentum, Adam) as the baseline for homotopy training.

:func:`train` runs seeded mini-batch or full-batch epochs with a :class:`LossFunction`
whose rows are re-selected per batch (workspaces reused), and logs the training loss and
positive rate (PR, training accuracy) on the whole training set after every epoch.
:func:`save_result` / :func:`load_result` store parameters and curves in a
``pathtrack-train`` HDF5 file (:mod:`pathtrack.io`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from ..optim import Adam, Momentum
from ..results import Result
from ..status import Status
from .distributed import loss_function
from .model import LossFunction, Network

__all__ = ["TrainResult", "train", "save_result", "load_result", "OPTIMIZERS"]

OPTIMIZERS = ("sgd", "adam")
CURVES = ("epoch", "loss", "pr", "wall_time", "test_pr")


@dataclass(frozen=True)
class TrainResult(Result):
    """Final parameters and per-epoch curves (index 0 is the initial point); a :class:`~pathtrack.results.Result`.

    Attributes
    ----------
    net : Network
    p : ndarray
        The final parameters.
    epoch, loss, pr, wall_time : ndarray
        Per epoch on the whole training set: loss, positive rate (training accuracy), and
        the wall-clock seconds since the start.
    test_pr : ndarray or None
        Per-epoch positive rate on the held-out set, when one was given.
    config : dict
        The training configuration.
    counters : dict
        ``n_steps`` (optimizer steps) and ``n_epochs``.
    """

    net: Network
    p: np.ndarray
    epoch: np.ndarray
    loss: np.ndarray
    pr: np.ndarray
    wall_time: np.ndarray
    test_pr: Optional[np.ndarray] = None
    config: Dict[str, object] = field(default_factory=dict)


def _check(name, value, ok, what):
    if not ok:
        raise ValueError(f"{name} must be {what}, got {value!r}")


def train(net: Network, X, y, *, optimizer: str = "adam", lr: float = 1e-3, epochs: int = 10,
          batch_size: Optional[int] = 128, momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999,
          eps: float = 1e-8, loss: str = "cross_entropy", kappa: float = 1.0, p0=None, init: str = "glorot",
          init_scale: float = 0.5, seed: int = 0, X_test=None, y_test=None,
          progress: Optional[bool] = None, scheduler=None) -> TrainResult:
    """Train ``net`` on ``(X, y)`` by SGD with momentum or Adam.

    Parameters
    ----------
    net : Network
    X, y : arrays
        Training inputs (n, widths[0]) and labels (n,).
    optimizer : {"sgd", "adam"}
    lr : float
        Step size.
    epochs : int
        Passes over the data.
    batch_size : int or None
        Mini-batch size; None (or ≥ n) is full-batch gradient descent.
    momentum : float
        Heavy-ball momentum of SGD.
    beta1, beta2, eps : float
        Adam's moment decay rates and denominator guard.
    loss, kappa : see :class:`LossFunction`.
    p0 : array, optional
        Start parameters; otherwise ``net.init_params(init, init_scale, seed)``.
    seed : int
        Seeds the initialisation and the shuffling.
    X_test, y_test : arrays, optional
        Also log the PR on this held-out set.
    progress : bool, optional
        tqdm bar over epochs; default: only when stderr is a terminal.
    scheduler : str or dask.distributed.Client, optional
        Shard the full-batch loss, PR and (with full batches) gradient over the workers
        of this dask cluster (:mod:`pathtrack.nn.distributed`); mini-batches and the test
        set stay in this process.

    Returns
    -------
    TrainResult
    """
    from tqdm.auto import tqdm

    _check("optimizer", optimizer, optimizer in OPTIMIZERS, "one of " + ", ".join(OPTIMIZERS))
    _check("lr", lr, np.isfinite(lr) and lr > 0, "a positive number")
    _check("epochs", epochs, int(epochs) == epochs and epochs >= 0, "a non-negative integer")
    _check("batch_size", batch_size, batch_size is None or (int(batch_size) == batch_size and batch_size >= 1),
           "a positive integer or None")
    _check("momentum", momentum, 0 <= momentum < 1, "in [0, 1)")
    full = loss_function(net, X, y, loss=loss, kappa=kappa, scheduler=scheduler)
    n = full.n_samples
    full_batch = batch_size is None or batch_size >= n
    X_all, y_all = (full._X_all, full._y_all) if isinstance(full, LossFunction) else (X, y)
    batch = full if full_batch else LossFunction(net, X_all, y_all, loss=loss, kappa=kappa,
                                                  subset=np.arange(batch_size))
    test = LossFunction(net, X_test, y_test, loss=loss, kappa=kappa) if X_test is not None else None
    p = net.init_params(init, init_scale, seed) if p0 is None else net.check_params(p0, "p0").copy()
    rng = np.random.default_rng(seed)
    opt = Momentum(p, lr, momentum) if optimizer == "sgd" else Adam(p, lr, beta1, beta2, eps)

    def record(t0):
        curves["loss"].append(full.loss(p))
        curves["pr"].append(full.accuracy(p))
        curves["wall_time"].append(time.perf_counter() - t0)
        if test is not None:
            curves["test_pr"].append(test.accuracy(p))

    curves = {"loss": [], "pr": [], "wall_time": [], "test_pr": []}
    t0 = time.perf_counter()
    record(t0)
    if progress is None:
        progress = sys.stderr.isatty()
    bar = tqdm(range(int(epochs)), desc="train", unit="epoch", disable=not progress)
    for _ in bar:
        order = np.arange(n) if full_batch else rng.permutation(n)
        step = n if full_batch else int(batch_size)
        for start in range(0, n, step):
            if not full_batch:
                batch.select(order[start:start + step])
            opt.step(p, batch.grad(p))
        record(t0)
        bar.set_postfix(loss=f"{curves['loss'][-1]:.4g}", pr=f"{curves['pr'][-1]:.4f}")
    config = dict(optimizer=optimizer, lr=lr, epochs=int(epochs), batch_size=0 if full_batch else int(batch_size),
                  momentum=momentum, beta1=beta1, beta2=beta2, eps=eps, loss=loss, kappa=kappa, init=init,
                  init_scale=init_scale, seed=seed, n_samples=n, n_steps=opt.n_steps)
    return TrainResult(net=net, p=p, epoch=np.arange(len(curves["loss"])), loss=np.array(curves["loss"]),
                       pr=np.array(curves["pr"]), wall_time=np.array(curves["wall_time"]),
                       test_pr=np.array(curves["test_pr"]) if test is not None else None, config=config,
                       status=Status.success, message=f"trained {int(epochs)} epochs",
                       counters={"n_steps": opt.n_steps, "n_epochs": int(epochs)}, total_time=curves["wall_time"][-1])


def save_result(path, result: TrainResult, *, force: bool = False, attrs: Optional[dict] = None) -> None:
    """Write parameters, curves and configuration (plus ``attrs``) to a ``pathtrack-train`` HDF5 file.

    Refuses to overwrite an existing file unless ``force``.
    """
    from ..io import write_train

    net = result.net
    write_train(str(path), network={"widths": list(net.widths), "activation": net.activation,
                                    "temperature": float(net.temperature), "dtype": net.dtype.name},
                config={**result.config, **(attrs or {})}, params=result.p,
                curves={name: getattr(result, name) for name in CURVES}, status=result.status,
                message=result.message, wall_time=result.total_time, counters=result.counters, force=force)


def load_result(path) -> TrainResult:
    """Read a file written by :func:`save_result` (also the schema-1 ``pathtrack.nn.train`` layout).

    Raises
    ------
    pathtrack.io.StorageError
        The file is not a readable training file; the message names the file and what is wrong.
    """
    from ..io import TrainFile

    with TrainFile(path) as f:
        nw = f.network
        net = Network(list(nw["widths"]), str(nw["activation"]), float(nw["temperature"]), np.dtype(str(nw["dtype"])))
        c = f.curves
        counters = f.header()["counters"] or {"n_steps": int(f.config.get("n_steps", 0)),
                                               "n_epochs": max(len(c["epoch"]) - 1, 0)}
        return TrainResult(net=net, p=f.params, epoch=c["epoch"], loss=c["loss"], pr=c["pr"],
                           wall_time=c["wall_time"], test_pr=c.get("test_pr"), config=f.config,
                           status=Status[f.status], message=f.message, counters=counters,
                           total_time=float(c["wall_time"][-1]) if len(c["wall_time"]) else 0.0)
