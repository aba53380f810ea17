"""Deng's data homotopy on MNIST as a pathtrack problem (``deng-mnist``).

B. Deng, "Error-free training for artificial neural network": train conventionally to a
high but imperfect positive rate (PR), clone correctly classified partners for the
misclassified samples, and continue the network's minimum from the partner data
(λ = 0, PR 100% by construction) to the real data (λ = 1), accepting a step only when
PR on D_λ is 100%. Here the continuation is pathtrack's tracker: natural
parameterisation in λ, a minimisation corrector that stops as soon as the acceptance
test passes, backtracking (halve Δλ) when it fails within its budget, and growth of Δλ
after consecutive successes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from pathtrack.problem import Problem, ProblemError, StartPoint

from .families import FAMILIES, FocusFamily, MarginFamily, TemperatureFamily, WidthFamily
from .homotopy import PARTNER_STRATEGIES, VARIANTS, DataHomotopy, Partners, choose_partners

__all__ = ["DengMNIST", "DataHomotopy", "Partners", "choose_partners", "pretrain", "temperature_scale",
           "verify_pr"]

_CORRECTORS = ("lbfgs", "gd", "adam", "newton-cg", "lm")
_OBJECTIVES = {"margin": "margin", "cross_entropy": "cross_entropy", "ce": "cross_entropy"}


def _cache_dir() -> Path:
    root = os.environ.get("PATHTRACK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "pathtrack")
    return Path(root) / "deng"


def temperature_scale(net) -> float:
    """Per-layer factor that makes pretraining at temperature T behave as it does at T = 1.

    softmax(z/T) needs logits T times larger than at T = 1. For a positively homogeneous
    activation (ReLU) with L weight layers, multiplying every layer's weights and hidden
    biases by s = T^(1/L) (the output bias by T) multiplies z by exactly T, so the network
    at T with the scaled parameters *is* the T = 1 network. Adam's steps do not depend on
    the size of the gradient, so the scaled problem also needs steps s times larger: the
    initialisation and the learning rate are both multiplied by s, and Adam at T then
    follows the T = 1 run (exactly but for the output bias, whose steps grow by s, not T,
    and Adam's ε). Other activations are not homogeneous (scaling their inputs changes
    their shape), so they get s = 1.

    Parameters
    ----------
    net : Network

    Returns
    -------
    float
        s = T^(1/L) for ReLU, else 1.
    """
    if net.activation != "relu" or net.temperature == 1.0:
        return 1.0
    return float(net.temperature ** (1.0 / net.n_layers))


def pretrain(net, X, y, *, epochs: int, optimizer: str, lr: float, batch_size: int, init: str, seed: int,
             scale: float = 1.0, cache: bool = True, key_extra: Optional[dict] = None) -> np.ndarray:
    """Conventionally trained start parameters p0, cached on disk by their settings.

    The cache makes a resumed or repeated run start from the very same p0 without
    retraining; its key covers the network, the data selection and every training setting.

    Parameters
    ----------
    net : Network
    X, y : arrays
        Training data.
    epochs, optimizer, lr, batch_size, init, seed
        As in :func:`pathtrack.nn.train.train`.
    scale : float
        Multiplies both the initial parameters and the learning rate (see
        :func:`temperature_scale`); 1 trains exactly as ``train`` does.
    cache : bool
        Load p0 from, and store it to, the on-disk cache.
    key_extra : dict, optional
        Further settings that identify p0 (data set, subset).

    Returns
    -------
    ndarray
        p0 in the network's dtype.
    """
    from pathtrack.nn.train import train

    settings = {"widths": net.widths, "activation": net.activation, "temperature": net.temperature,
                "dtype": str(net.dtype), "epochs": epochs, "optimizer": optimizer, "lr": lr,
                "batch_size": batch_size, "init": init, "seed": seed, "n": int(y.shape[0]),
                "y_hash": hashlib.sha1(np.ascontiguousarray(y).tobytes()).hexdigest(), **(key_extra or {})}
    if scale != 1.0:  # only then: the cache keys of unscaled runs stay what they were
        settings["scale"] = scale
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = _cache_dir() / f"p0-{key}.npy"
    if cache and path.is_file():
        p0 = np.load(path)
        if p0.shape == (net.n_params,) and np.all(np.isfinite(p0)):
            return p0
    p_init = None if scale == 1.0 else net.init_params(init, 0.5, seed) * net.dtype.type(scale)
    result = train(net, X, y, optimizer=optimizer, lr=lr * scale, epochs=epochs, batch_size=batch_size,
                   init=init, p0=p_init, seed=seed, progress=False)
    p0 = np.asarray(result.p)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
        np.save(tmp, p0)
        os.replace(tmp, path)  # atomic: a killed run never leaves half a p0
    return p0


def verify_pr(p: np.ndarray, *, widths, activation: str, temperature: float, dtype, dataset: str = "mnist",
              split: str = "train", subset: int = 0, seed: int = 0, data_dir=None) -> float:
    """PR of ``p`` recomputed from scratch: data reloaded from disk, a fresh network and loss."""
    from pathtrack.datasets import load_idx_dataset
    from pathtrack.nn import LossFunction, Network

    data = load_idx_dataset(dataset, split, data_dir=data_dir or None, dtype=dtype,
                            subset=subset or None, seed=seed)
    net = Network(widths, activation=activation, temperature=temperature, dtype=dtype)
    return float(LossFunction(net, data.X, data.y).accuracy(np.asarray(p, dtype=dtype)))


class DengMNIST(Problem):
    """Deng's data homotopy from partner data (λ = 0) to the real training data (λ = 1).

    ``homotopy`` picks the λ-family (:mod:`.families`): ``data`` (Deng's), ``margin``
    (the hinge margin from below p0's smallest margin to κ), ``temperature`` (summed
    τ·CE(z/τ), τ from ``tau_start`` to ``tau_end`` times T), ``width`` (a network
    ``n_drop`` neurons wider, whose least useful neurons fade out along λ) or ``focus``
    (the hinge with the weight of p0's hard images, margin at most ``focus_margin``, raised
    from 1 to ``focus_weight`` along λ). ``start``
    replaces the pretrained p0 by parameters saved with ``numpy.save`` (for ``width``,
    the wide network's).

    ``kappa`` is the margin in units of the softmax input z/T: the hinge acts on the raw
    logits with κ·T, so a given κ asks for the same confidence at every temperature (at
    T = 100 the logits are 100 times larger and a raw κ of 0.5 would hardly ask for more
    than a correct sign). ``pretrain_scale`` multiplies the initialisation and the
    learning rate of the pretraining; ``'auto'`` is :func:`temperature_scale` (T^(1/L) for
    ReLU, 1 otherwise).

    ``scheduler`` (a dask scheduler address, or ``local:N`` for N local worker processes)
    shards the full-data loss over ``dask.distributed`` workers
    (:mod:`pathtrack.nn.distributed`); the tracker and its file stay in this process.
    Pretraining, the test set and :meth:`verify` stay local.
    """

    name = "deng-mnist"
    description = "Deng's data homotopy: continue a trained net from partner data to real MNIST at 100% PR"
    is_gradient = True
    lam_start, lam_end = 0.0, 1.0
    parameters = {
        "dataset": "mnist", "hidden": 100, "activation": "switch", "temperature": 1.0, "dtype": "float32",
        "subset": 0, "seed": 0, "data_dir": "",
        "pretrain_epochs": 15, "pretrain_optimizer": "adam", "pretrain_lr": 1e-3, "pretrain_batch": 128,
        "init": "glorot", "pretrain_scale": "auto", "cache": True,
        "partner": "margin", "variant": "input", "objective": "margin", "kappa": 0.5, "corrector": "lbfgs",
        "test": True, "homotopy": "data", "tau_start": 1.0, "tau_end": 0.05, "n_drop": 5, "start": "",
        "focus_weight": 100.0, "focus_margin": 0.0,
        "scheduler": "",
    }

    def __init__(self, **params):
        super().__init__(**params)
        P = self.params
        self._validate(P)
        self.make_loss = self._loss_maker(P["scheduler"])  # before the data: a bad address fails at once
        from pathtrack.datasets import load_idx_dataset
        from pathtrack.nn import LossFunction, Network

        dtype = np.dtype(P["dtype"])
        t0 = time.perf_counter()
        data = load_idx_dataset(P["dataset"], "train", data_dir=P["data_dir"] or None, dtype=dtype,
                                subset=int(P["subset"]) or None, seed=int(P["seed"]))
        self.X, self.y = data.X, data.y
        self.widths = [self.X.shape[1], int(P["hidden"]), data.n_classes]
        net_kw = dict(activation=P["activation"], temperature=float(P["temperature"]), dtype=dtype)
        self.net = Network(self.widths, **net_kw)
        # the network the tracker's p belong to: wider than the target for the width family
        wide = int(P["hidden"]) + (int(P["n_drop"]) if P["homotopy"] == "width" else 0)
        self.track_net = Network([self.widths[0], wide, self.widths[2]], **net_kw) if wide != self.widths[1] \
            else self.net
        self.pretrain_scale = (temperature_scale(self.net) if P["pretrain_scale"] == "auto"
                               else float(P["pretrain_scale"]))
        if P["start"]:
            self.p0 = self._load_start(P["start"])
        else:
            self.p0 = pretrain(self.track_net, self.X, self.y, epochs=int(P["pretrain_epochs"]),
                               optimizer=P["pretrain_optimizer"], lr=float(P["pretrain_lr"]),
                               batch_size=int(P["pretrain_batch"]), init=P["init"], seed=int(P["seed"]),
                               scale=self.pretrain_scale, cache=bool(P["cache"]),
                               key_extra={"dataset": P["dataset"], "subset": P["subset"]})
        self.pretrain_time = time.perf_counter() - t0
        logits = LossFunction(self.track_net, self.X, self.y).logits(self.p0)
        self.pr0 = float(np.mean(logits.argmax(axis=1) == self.y))
        self.n_wrong0 = int(np.sum(logits.argmax(axis=1) != self.y))
        self.partners = (choose_partners(logits, self.y, P["partner"], seed=int(P["seed"]))
                         if P["homotopy"] == "data" else None)  # the other families need none
        self.homotopy = self._family(P, logits)
        self.test = None
        if P["test"]:
            t = load_idx_dataset(P["dataset"], "test", data_dir=P["data_dir"] or None, dtype=dtype)
            self.test = LossFunction(self.track_net, t.X, t.y)
        self.default_options = {
            "parameterisation": "natural", "predictor": "constant", "corrector": P["corrector"],
            "initial_ds": 0.25, "max_ds": 1.0, "min_ds": 1e-4, "grow_after": 1, "min_maxiter": 150,
            "min_gtol": 1e-12, "gd_lr": 1e-3, "stop_on_accept": True, "max_steps": 200, "store_p_every": 1,
            "step_memory": True,  # the accept-at-ds / reject-at-2ds oscillation of hard instances
        }

    def _load_start(self, path: str) -> np.ndarray:
        try:
            p = np.load(path)
        except (OSError, ValueError) as exc:
            raise ProblemError(f"problem 'deng-mnist': cannot read start {path!r}: {exc}") from None
        if p.shape != (self.track_net.n_params,) or not np.all(np.isfinite(p)):
            raise ProblemError(f"problem 'deng-mnist': start {path!r} holds shape {p.shape}, not the "
                               f"{self.track_net.n_params} finite parameters of {self.track_net}")
        return p.astype(self.net.dtype)

    @staticmethod
    def _loss_maker(scheduler: str):
        """How the full-data losses are built: in this process, or sharded over a dask cluster."""
        from pathtrack.nn import LossFunction

        if not str(scheduler).strip():
            return LossFunction
        from pathtrack.nn.distributed import SchedulerError, connect, loss_function

        try:
            client = connect(scheduler)
        except SchedulerError as exc:
            raise ProblemError(f"problem 'deng-mnist': {exc}") from None
        return functools.partial(loss_function, scheduler=client)

    def _family(self, P: Dict, logits: np.ndarray):
        """The λ-family named by ``homotopy`` (margins in units of z/T, see the class docstring)."""
        kappa = float(P["kappa"]) * float(P["temperature"])
        make_loss = self.make_loss
        if P["homotopy"] == "margin":
            return MarginFamily(self.net, self.X, self.y, self.p0, kappa=kappa, make_loss=make_loss)
        if P["homotopy"] == "temperature":
            return TemperatureFamily(self.net, self.X, self.y, self.p0, tau_start=float(P["tau_start"]),
                                     tau_end=float(P["tau_end"]), make_loss=make_loss)
        if P["homotopy"] == "focus":
            return FocusFamily(self.net, self.X, self.y, self.p0, kappa=kappa, weight=float(P["focus_weight"]),
                               hard_margin=float(P["focus_margin"]) * float(P["temperature"]), make_loss=make_loss)
        if P["homotopy"] == "width":
            return WidthFamily(self.track_net, self.X, self.y, self.p0, n_drop=int(P["n_drop"]), kappa=kappa,
                               make_loss=make_loss)
        y0 = logits[self.partners.erred].argmax(axis=1) if P["variant"] == "label" else None
        return DataHomotopy(self.net, self.X, self.y, self.partners, variant=P["variant"],
                            loss=_OBJECTIVES[P["objective"]], kappa=kappa, y0=y0, make_loss=make_loss)

    @staticmethod
    def _validate(P: Dict) -> None:
        checks = [
            (int(P["hidden"]) >= 1, f"hidden must be a positive integer, got {P['hidden']}"),
            (P["partner"] in PARTNER_STRATEGIES, f"partner must be one of {PARTNER_STRATEGIES}, got {P['partner']!r}"),
            (P["variant"] in VARIANTS, f"variant must be one of {VARIANTS}, got {P['variant']!r}"),
            (P["objective"] in _OBJECTIVES, f"objective must be one of {tuple(_OBJECTIVES)}, got {P['objective']!r}"),
            (P["corrector"] in _CORRECTORS, f"corrector must be one of {_CORRECTORS}, got {P['corrector']!r}"),
            (str(P["dtype"]) in ("float32", "float64"), f"dtype must be float32 or float64, got {P['dtype']!r}"),
            (int(P["subset"]) >= 0, f"subset must be >= 0 (0: all images), got {P['subset']}"),
            (int(P["pretrain_epochs"]) >= 0, f"pretrain_epochs must be >= 0, got {P['pretrain_epochs']}"),
            (P["pretrain_scale"] == "auto" or float(P["pretrain_scale"]) > 0,
             f"pretrain_scale must be 'auto' or a positive number, got {P['pretrain_scale']!r}"),
            (P["homotopy"] in FAMILIES, f"homotopy must be one of {FAMILIES}, got {P['homotopy']!r}"),
            (float(P["tau_start"]) > 0 and float(P["tau_end"]) > 0,
             f"tau_start and tau_end must be positive, got {P['tau_start']}, {P['tau_end']}"),
            (int(P["n_drop"]) >= 1, f"n_drop must be a positive integer, got {P['n_drop']}"),
            (float(P["focus_weight"]) >= 1.0, f"focus_weight must be >= 1, got {P['focus_weight']}"),
        ]
        for ok, why in checks:
            if not ok:
                raise ProblemError(f"problem 'deng-mnist': {why}")

    # -- the homotopy -----------------------------------------------------------------------------
    def loss(self, p, lam):
        return self.homotopy.loss(p, lam)

    def loss_and_grad(self, p, lam):
        return self.homotopy.loss_and_grad(p, lam)

    def H(self, p, lam):
        return self.homotopy.loss_and_grad(p, lam)[1]

    def jvp(self, p, lam, v):
        return self.homotopy.hvp(p, lam, v)

    def dH_dlam(self, p, lam):
        return self.homotopy.dgrad_dlam(p, lam)

    def gnvp(self, p, lam, v):
        if not hasattr(self.homotopy, "gnvp"):
            raise ValueError(f"corrector 'lm' needs Gauss-Newton products, which homotopy="
                             f"{self.params['homotopy']!r} does not have; use homotopy='data' or another corrector")
        return self.homotopy.gnvp(p, lam, v)

    def n_violations(self, p, lam):
        return self.homotopy.n_wrong(p, lam)

    def violations(self, p, lam):
        if not hasattr(self.homotopy, "violations"):
            raise ValueError(f"the active-set stage (min_active_set) needs homotopy='data', not "
                             f"{self.params['homotopy']!r}")
        return self.homotopy.violations(p, lam)

    def start(self):
        return StartPoint(self.p0.astype(np.float64), 0.0)

    def accept(self, p, lam):
        return self.homotopy.all_correct(p, lam)

    def metrics(self, p, lam):
        out = self.homotopy.stats(p, lam)
        out["loss"] = self.homotopy.loss(p, lam)  # forward only: metrics need no gradient
        out["dist_p0"] = float(np.linalg.norm(p - self.p0))
        if self.test is not None:
            out["test_pr"] = self.test_accuracy(p, lam)
        return out

    # -- reporting
    def params_of(self, p) -> np.ndarray:
        """The target network's parameters for the tracker's ``p`` (they differ for the width family)."""
        return self.homotopy.params_of(np.asarray(p))

    def test_accuracy(self, p, lam: float = 1.0) -> float:
        """Test accuracy of the network at (p, λ) (for the width family, the wide network with faded neurons)."""
        return float(self.test.accuracy(self.homotopy.effective_params(np.asarray(p), lam)))

    def verify(self, p) -> float:
        """PR on the real training data, recomputed independently of the tracker's bookkeeping."""
        P = self.params
        return verify_pr(self.params_of(p), widths=self.widths, activation=P["activation"],
                         temperature=float(P["temperature"]), dtype=np.dtype(P["dtype"]), dataset=P["dataset"], subset=int(P["subset"]),
                         seed=int(P["seed"]), data_dir=P["data_dir"] or None)

    def exact_output_layer(self, p, margin: Optional[float] = None, count: bool = False, **kwargs):
        """The exact final stage: the output layer re-solved by LP with the hidden layer of ``p`` fixed.

        :func:`pathtrack.nn.separate.separate` on the real training data's hidden features (float32,
        as :meth:`verify` computes them): an output layer with every margin ≥ ``margin`` (default the
        hinge's κ·T, so each correct image leaves the objective) when the features are separable,
        else the one minimising the L1 multi-class hinge. With ``count``, inseparable features go on
        to :func:`pathtrack.nn.separate.fewest_wrong` (a MILP on the hardest images), which returns
        the layer with the fewest wrong images it finds. ``kwargs`` go to either.

        Returns
        -------
        p_new, status, info
            ``p`` with the new output layer (float64, the tracker's type), ``separate``'s status
            (``'separable'``, ``'inseparable'``, ``'limit'``, ``'failed'``) and its info dict.
        """
        from pathtrack.nn import LossFunction
        from pathtrack.nn.separate import fewest_wrong, separate

        if self.params["homotopy"] == "width":
            raise ValueError("the exact output-layer stage needs the target network; homotopy='width' tracks a "
                             "wider one")
        net = self.net
        q = net.check_params(np.asarray(p))
        features = LossFunction(net, self.X, self.y).features(q)
        W0, b0 = net.layers(q)[-1]
        margin = float(self.params["kappa"]) * float(self.params["temperature"]) if margin is None else margin
        W, b, status, info = (fewest_wrong if count else separate)(features, self.y, self.widths[-1], W0=W0, b0=b0,
                                                                   margin=margin, **kwargs)
        out = np.asarray(p, dtype=np.float64).copy()
        if W is not None:
            net.weights(out, net.n_layers - 1)[...] = W
            net.biases(out, net.n_layers - 1)[...] = b
        return out, status, info

    def report(self, p, lam):
        """Verified training PR (data reloaded from disk) and test accuracy, at the end of a run."""
        out = {"verified_pr": self.verify(p) if lam == 1.0 else float("nan")}
        if self.test is not None:
            out["test_pr0"] = self.test_accuracy(self.p0, 0.0)
            out["test_pr"] = self.test_accuracy(p)
        return out

    def describe(self):
        d = super().describe()
        d.update({"pr0": self.pr0, "n_erred": self.n_wrong0})
        if self.partners is not None:
            d["n_same_label_partners"] = int(self.partners.n_same_label)
        return d
