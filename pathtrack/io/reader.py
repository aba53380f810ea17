"""Readers of pathtrack's HDF5 files: :func:`load` for path files, :func:`open_file` for any kind.

Every malformed, corrupt, truncated or mismatched file raises
:class:`~pathtrack.io.schema.StorageError` with a one-line message. Path files are
read lazily and can be opened while a run writes them (SWMR).
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any, Dict, List, Optional, Union

import numpy as np

from ..options import TrackerOptions
from ..problem import StartPoint
from ..tracker import TrackerState
from . import h5
from .h5 import decode
from .schema import (CHECKPOINT_ARRAYS, CHECKPOINT_SCALARS, EVENT_COLUMNS, KIND_OF_FORMAT, PARAMETER_ATTRS,
                     PARAMETER_DATASETS, PARAMETER_FORMAT, PATH_ATTRS,
                     PATH_FINISH_ATTRS, PATH_FORMAT, REJECTED_COLUMNS, SOLVE_ATTRS, SOLVE_DATASETS, SOLVE_FORMAT,
                     SOLVE_V1_ATTRS, STEP_COLUMNS,
                     TRAIN_ATTRS, TRAIN_DATASETS, TRAIN_FORMAT, TRAIN_V1_NETWORK_ATTRS, StorageError, one_line,
                     path_datasets, problem_identity)
from .validate import check_status, identify, require_attrs, require_datasets, root_attrs

__all__ = ["PathFile", "TrainFile", "SolveFile", "load", "open_file"]


class _Rows:
    """A lazy 2-D dataset (``p``, ``tangent``): rows are read on indexing, errors become StorageError."""

    def __init__(self, owner: "PathFile", key: str, nrows: int):
        self._owner, self._key, self._n = owner, key, nrows

    @property
    def shape(self):
        return (self._n,) + tuple(self._owner._ds(self._key).shape[1:])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, item):
        if isinstance(item, (int, np.integer)):
            i = int(item) + (self._n if item < 0 else 0)
            if not 0 <= i < self._n:
                raise IndexError(f"row {item} out of range for {self._n} rows")
            return self._owner._read(lambda: self._owner._ds(self._key)[i], self._key)
        if isinstance(item, slice):
            idx = range(*item.indices(self._n))
            if idx.step == 1:
                return self._owner._read(lambda: self._owner._ds(self._key)[idx.start:idx.stop], self._key)
            return np.array([self[i] for i in idx])
        raise TypeError("index rows with an int or a slice")

    def __array__(self, dtype=None, copy=None):
        a = self[:]
        return a if dtype is None else a.astype(dtype)

    def __iter__(self):
        for i in range(self._n):
            yield self[i]


class PathFile:
    """A pathtrack HDF5 file opened read-only; columns are read on first access.

    Attributes
    ----------
    attrs : dict
        The root attributes (see ``docs/hdf5_format.md``).
    problem, parameters, options, status
        Problem name, its parameters (dict), the :class:`TrackerOptions`, the status name.
    lam, s, ds, index, n_newton_iters, residual, contraction, sigma_min, cond, det_sign, wall_time : ndarray
        One value per accepted step (row 0 is the start point).
    metrics : dict of ndarray
    p, tangent : lazy rows (``f.p[k]``), stored every ``store_p_every`` steps at ``p_steps``.
    rejected : dict of ndarray (``reason`` as the :class:`~pathtrack.status.RejectReason` name)
    events : list of dict (``kind, lam, s, step, value_a, value_b``); ``event_p(i)`` the located point.
    """

    def __init__(self, path: str):
        self.path = str(path)
        self._cache: Dict[str, Any] = {}
        self._h = h5.open_read(self.path)
        try:
            self._ino = h5.inode(self._h, self.path)
            self._validate()
        except StorageError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise StorageError(f"{self.path}: corrupt pathtrack file ({one_line(exc)})") from None

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        attrs = root_attrs(self._h, self.path)
        _, version = identify(attrs, self.path, PATH_FORMAT)
        require_attrs(attrs, self.path, PATH_ATTRS + (PATH_FINISH_ATTRS if attrs.get("status") != "running" else ()))
        self.attrs = attrs
        try:
            self.parameters = json.loads(attrs["parameters"])
            self.options = TrackerOptions.from_json(attrs["options"])
        except Exception as exc:
            raise StorageError(f"{self.path}: bad parameters/options attribute ({one_line(exc)})") from None
        if not isinstance(self.parameters, dict):
            raise StorageError(f"{self.path}: parameters attribute is not a JSON object")
        self.problem = str(attrs["problem"])
        self.status = check_status(attrs, self.path)
        self.diagnostics_off = self._diagnostics_off(attrs, version)
        self.has_steps = "steps" in self._h
        self.metrics_names: List[str] = []
        if not self.has_steps:
            if "n" in attrs or any(g in self._h for g in ("rejected", "events", "checkpoint")):
                raise StorageError(f"{self.path}: missing group /steps")
            self.num_steps = 0
            return
        require_attrs(attrs, self.path, ("n", "p_dtype"))
        self.n = int(attrs["n"])
        self._p_dtype = np.dtype(str(attrs["p_dtype"]))
        require_datasets(self._h, self.path, path_datasets() + ("steps/metrics",))
        try:
            self.metrics_names = list(json.loads(self._h["steps/metrics"].attrs["names"]))
        except Exception as exc:
            raise StorageError(f"{self.path}: bad /steps/metrics names attribute ({one_line(exc)})") from None
        if sorted(self._h["steps/metrics"].keys()) != sorted(self.metrics_names):
            raise StorageError(f"{self.path}: /steps/metrics holds {sorted(self._h['steps/metrics'].keys())}, "
                               f"its names attribute says {self.metrics_names}")
        lengths = {c: self._h[f"steps/{c}"].shape[0] for c in STEP_COLUMNS}
        lengths.update({f"metrics/{c}": self._h[f"steps/metrics/{c}"].shape[0] for c in self.metrics_names})
        finished = self.status != "running"
        if finished and len(set(lengths.values())) > 1:
            raise StorageError(f"{self.path}: truncated or inconsistent step columns (lengths {lengths})")
        self.num_steps = min(lengths.values())  # a killed writer may leave a partly written last row
        if finished and int(attrs["n_accepted"]) + 1 != self.num_steps:
            raise StorageError(f"{self.path}: truncated: {self.num_steps} step rows stored, "
                               f"the run recorded {int(attrs['n_accepted']) + 1}")
        for key, width in (("steps/p", self.n), ("events/p", self.n)):
            shp = self._h[key].shape
            if len(shp) != 2 or shp[1] != width:
                raise StorageError(f"{self.path}: /{key} has shape {shp}, expected (k, {width})")
        np_rows = min(self._h["steps/p"].shape[0], self._h["steps/p_steps"].shape[0],
                      self._h["steps/tangent"].shape[0])
        if finished and len({self._h[k].shape[0] for k in ("steps/p", "steps/p_steps", "steps/tangent")}) > 1:
            raise StorageError(f"{self.path}: truncated or inconsistent p/p_steps/tangent rows")
        self._np_rows = np_rows
        ev_lengths = {self._h[f"events/{c}"].shape[0] for c in (*EVENT_COLUMNS, "kind", "p")}
        rej_lengths = {self._h[f"rejected/{c}"].shape[0] for c in (*REJECTED_COLUMNS, "reason")}
        if finished and (len(ev_lengths) > 1 or len(rej_lengths) > 1):
            raise StorageError(f"{self.path}: truncated or inconsistent events/rejected tables")
        self._n_events, self._n_rejected = min(ev_lengths), min(rej_lengths)
        if finished:
            cp = self._cp_arrays()
            for key, want in (("n_events", self._n_events), ("n_rejected", self._n_rejected),
                              ("n_accepted", self.num_steps - 1)):
                if int(cp[key]) != want:
                    raise StorageError(f"{self.path}: checkpoint {key}={int(cp[key])} but {want} rows stored")

    # ------------------------------------------------------------------ low-level reads
    def _diagnostics_off(self, attrs: Dict[str, Any], version: int) -> Optional[Dict[str, str]]:
        """``{test: why}`` of the tests that did not run; None where the file does not say (before version 3)."""
        if "diagnostics_off" not in attrs:
            if version >= 3 and self.status != "running":
                raise StorageError(f"{self.path}: missing root attribute 'diagnostics_off'")
            return None
        try:
            value = json.loads(attrs["diagnostics_off"])
        except Exception as exc:
            raise StorageError(f"{self.path}: bad diagnostics_off attribute ({one_line(exc)})") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise StorageError(f"{self.path}: diagnostics_off attribute is not a JSON object of strings")
        return value

    def _read(self, fn, what: str):
        try:
            return fn()
        except Exception as exc:
            raise StorageError(f"{self.path}: cannot read /{what} ({one_line(exc)})") from None

    def _ds(self, key: str):
        if self._h is None:
            raise StorageError(f"{self.path}: file is closed")
        return self._h[key]

    def _col(self, group: str, name: str) -> np.ndarray:
        key = f"{group}/{name}"
        if key not in self._cache:
            n = {"steps": self.num_steps, "steps/metrics": self.num_steps, "rejected": self._n_rejected,
                 "events": self._n_events}[group]
            self._cache[key] = self._read(lambda: self._ds(key)[:n], key)
        return self._cache[key]

    def _cp_arrays(self) -> Dict[str, Any]:
        if "checkpoint" not in self._cache:
            def read():
                cp = self._ds("checkpoint")
                d = {k: cp[k][...] for k in CHECKPOINT_ARRAYS}
                d.update({k: cp[k][0] for k in CHECKPOINT_SCALARS})
                d["event_names"] = json.loads(cp["event_values"].attrs["names"])
                return d
            self._cache["checkpoint"] = self._read(read, "checkpoint")
        return self._cache["checkpoint"]

    def _steps_col(self, name: str) -> np.ndarray:
        if not self.has_steps:
            return np.zeros(0, dtype=STEP_COLUMNS[name])
        return self._col("steps", name)

    # ------------------------------------------------------------------ public API
    lam = property(lambda self: self._steps_col("lam"))
    s = property(lambda self: self._steps_col("s"))
    ds = property(lambda self: self._steps_col("ds"))
    index = property(lambda self: self._steps_col("index"))
    n_newton_iters = property(lambda self: self._steps_col("n_newton_iters"))
    residual = property(lambda self: self._steps_col("residual"))
    contraction = property(lambda self: self._steps_col("contraction"))
    sigma_min = property(lambda self: self._steps_col("sigma_min"))
    cond = property(lambda self: self._steps_col("cond"))
    det_sign = property(lambda self: self._steps_col("det_sign"))
    wall_time = property(lambda self: self._steps_col("wall_time"))

    @property
    def metrics(self) -> Dict[str, np.ndarray]:
        return {k: self._col("steps/metrics", k) for k in self.metrics_names}

    @property
    def p_steps(self) -> np.ndarray:
        if not self.has_steps:
            return np.zeros(0, dtype=int)
        if "p_steps" not in self._cache:
            self._cache["p_steps"] = self._read(lambda: self._ds("steps/p_steps")[:self._np_rows], "steps/p_steps")
        return self._cache["p_steps"]

    @property
    def p(self) -> _Rows:
        """Stored solution vectors, read row by row on indexing (``f.p[k]``)."""
        return _Rows(self, "steps/p", self._np_rows if self.has_steps else 0)

    @property
    def tangent(self) -> _Rows:
        return _Rows(self, "steps/tangent", self._np_rows if self.has_steps else 0)

    def p_at(self, step: int) -> np.ndarray:
        """``p`` at accepted step ``step``; KeyError when that step's ``p`` was not stored."""
        rows = np.flatnonzero(self.p_steps == int(step))
        if rows.size == 0:
            raise KeyError(f"p of step {step} is not stored (store_p_every={self.options.store_p_every})")
        return self.p[int(rows[0])]

    @property
    def rejected(self) -> Dict[str, np.ndarray]:
        if not self.has_steps:
            return {k: np.zeros(0) for k in (*REJECTED_COLUMNS, "reason")}
        out = {k: self._col("rejected", k) for k in REJECTED_COLUMNS}
        out["reason"] = self._read(lambda: _reason_names(self._ds("rejected/reason"), self._col("rejected", "reason")),
                                   "rejected/reason")
        return out

    @property
    def events(self) -> List[Dict[str, Any]]:
        if not self.has_steps:
            return []
        cols = {k: self._col("events", k) for k in EVENT_COLUMNS}
        kinds = [decode(k) for k in self._col("events", "kind")]
        return [{"kind": kinds[i], **{k: cols[k][i].item() for k in EVENT_COLUMNS}} for i in range(len(kinds))]

    def event_p(self, i: int) -> np.ndarray:
        """The located point of event ``i``."""
        return _Rows(self, "events/p", self._n_events if self.has_steps else 0)[i]

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def writer_alive(self) -> bool:
        """Whether the process that writes a ``running`` file still exists (same host only)."""
        if self.status != "running":
            return False
        if str(self.attrs.get("writer_host", "")) != socket.gethostname():
            return True  # cannot tell from here; assume it is
        return h5.pid_alive(self.attrs.get("writer_pid", -1))

    def replaced(self) -> bool:
        """Whether ``path`` now names another file than the one open here.

        A run replaces its file when it writes its first step and when it finishes
        (:meth:`refresh` opens the new one); this reader keeps the version it opened.
        """
        try:
            return os.stat(self.path).st_ino != self._ino
        except OSError:
            return True

    def checkpoint(self) -> TrackerState:
        """The :class:`TrackerState` of the last checkpoint (what a resume continues from)."""
        if not self.has_steps:
            raise StorageError(f"{self.path}: no checkpoint (the run stopped before its first step)")
        cp = self._cp_arrays()
        d = {k: cp[k].item() for k in CHECKPOINT_SCALARS}
        for k in ("lam_direction", "n_steps", "n_accepted", "n_rejected", "n_consecutive", "n_newton_iters",
                  "n_events", "status"):
            d[k] = int(d[k])
        d.update(y=cp["y"], tangent=cp["tangent"], y_prev=cp["y_prev"] if d["has_y_prev"] else np.array([]))
        if len(cp["event_names"]) != cp["event_values"].shape[0]:
            raise StorageError(f"{self.path}: checkpoint event values do not match their names")
        d["event_values"] = dict(zip(cp["event_names"], cp["event_values"].tolist()))
        try:
            state = TrackerState.from_checkpoint(d)
        except Exception as exc:
            raise StorageError(f"{self.path}: bad checkpoint ({one_line(exc)})") from None
        if not np.all(np.isfinite(state.y)) or state.n_accepted + 1 > self.num_steps:
            raise StorageError(f"{self.path}: checkpoint (step {state.n_accepted}) does not match the "
                               f"{self.num_steps} stored steps")
        return state

    def start_point(self) -> StartPoint:
        cp = self._cp_arrays()
        return StartPoint(np.asarray(cp["start_p"]), float(cp["start_lam"]))

    def heartbeat(self) -> float:
        """Unix time of the last checkpoint write."""
        return float(self._cp_arrays()["heartbeat"]) if self.has_steps else float("nan")

    def _check_same_run(self, problem, options: TrackerOptions) -> None:
        name, params = problem_identity(problem)
        if name != self.problem or json.loads(params) != self.parameters:
            raise StorageError(f"{self.path} was written for problem {self.problem} {json.dumps(self.parameters)}, "
                               f"not {name} {params}")
        mine = {k: v for k, v in json.loads(self.attrs["options"]).items() if k != "max_steps"}
        theirs = {k: v for k, v in json.loads(options.to_json()).items() if k != "max_steps"}
        if mine != theirs:
            diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            raise StorageError(f"{self.path} was written with other tracker options (differ: {', '.join(diff)}); "
                               "only max_steps may change on resume")

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        lam = self.lam
        rej = self.rejected
        reasons: Dict[str, int] = {}
        for r in rej["reason"]:
            reasons[r] = reasons.get(r, 0) + 1
        wall = self.wall_time
        state = self._state()
        out = {
            "file": self.path, "kind": KIND_OF_FORMAT[PATH_FORMAT], "format": self.attrs["format"],
            "schema_version": int(self.attrs["schema_version"]),
            "pathtrack_version": str(self.attrs["pathtrack_version"]), "problem": self.problem,
            "parameters": self.parameters, "status": self.status, "state": state,
            "end_reason": str(self.attrs.get("end_reason", "")), "created": str(self.attrs["created"]),
            "finished": str(self.attrs["finished"]) or None, "resumed": int(self.attrs.get("resumed", 0)),
            "n": int(self.attrs["n"]) if self.has_steps else None,
            "n_accepted": max(self.num_steps - 1, 0), "n_rejected": len(rej["index"]),
            "rejected_reasons": reasons, "lam_start": float(lam[0]) if lam.size else None,
            "lam_end": float(lam[-1]) if lam.size else None,
            "lam_min": float(np.min(lam)) if lam.size else None, "lam_max": float(np.max(lam)) if lam.size else None,
            "s_end": float(self.s[-1]) if lam.size else None, "p_rows": len(self.p),
            "metrics": list(self.metrics_names), "events": self.events,
            "step_time_total": float(np.sum(wall)) + float(np.sum(rej["wall_time"])),
            "step_time_mean": float(np.mean(wall[1:])) if wall.size > 1 else None,
            "wall_time": float(self.attrs["wall_time"]) if "wall_time" in self.attrs else None,
            "diagnostics_off": self.diagnostics_off,
        }
        if not self.finished and self.has_steps:
            out["last_checkpoint_age_s"] = time.time() - self.heartbeat()
        return out

    def _state(self) -> str:
        """What ``inspect`` says about the run: finished, being written, starting, replaced, incomplete."""
        if self.replaced():
            return "replaced on disk by the writer (refresh() or open the file again to read the new version)"
        if self.finished:
            return "finished"
        if self.writer_alive():
            return "being written" if self.has_steps else "starting (the run has not written its first step yet)"
        if not self.has_steps:
            return "incomplete (the writer stopped before its first step; start the run again)"
        return "incomplete (writer gone; resume with --resume)"

    def refresh(self) -> None:
        """Drop cached columns so the next access sees rows a live writer added since."""
        self.close()
        self.__init__(self.path)

    def close(self) -> None:
        if getattr(self, "_h", None) is not None:
            try:
                self._h.close()
            except Exception:
                pass
            self._h = None

    def __enter__(self) -> "PathFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()


class _ResultFile:
    """A finished result file (training run, polynomial solve), read completely when opened.

    Attributes
    ----------
    path, attrs : the file and its root attributes.
    format, schema_version : what kind of file, which layout.
    status, message : the :class:`~pathtrack.Status` name and its explanation.
    data : dict of ndarray
        Every dataset, by its path inside the file (``"curves/loss"``).
    """

    FORMAT = ""
    DATASETS: tuple = ()
    LEGACY_ATTRS: tuple = ()
    ATTRS: tuple = ()

    def __init__(self, path: str):
        self.path = str(path)
        h = h5.open_read(self.path)
        try:
            self.attrs = root_attrs(h, self.path)
            self.format, self.schema_version = identify(self.attrs, self.path, self.FORMAT)
            require_attrs(self.attrs, self.path, self.ATTRS if self.schema_version > 1 else self.LEGACY_ATTRS)
            self.status = check_status(self.attrs, self.path) if self.schema_version > 1 else "success"
            self.message = str(self.attrs.get("message", ""))
            require_datasets(h, self.path, self.DATASETS)
            self.data: Dict[str, np.ndarray] = {}
            h.visititems(lambda name, obj: self.data.__setitem__(name, obj[()]) if hasattr(obj, "shape") else None)
            self._read_attrs()
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{self.path}: corrupt pathtrack file ({one_line(exc)})") from None
        finally:
            h.close()

    def _json(self, key: str, default=None):
        if key not in self.attrs:
            return default
        try:
            return json.loads(self.attrs[key])
        except Exception as exc:
            raise StorageError(f"{self.path}: bad {key} attribute ({one_line(exc)})") from None

    def _read_attrs(self) -> None:
        pass

    def header(self) -> Dict[str, Any]:
        """The common header fields of ``pathtrack inspect --json``."""
        a = self.attrs
        wall = a.get("wall_time")
        return {"file": self.path, "kind": KIND_OF_FORMAT[self.format], "format": self.format,
                "schema_version": self.schema_version, "pathtrack_version": str(a.get("pathtrack_version", "")) or None,
                "status": self.status, "message": self.message, "created": str(a.get("created", "")) or None,
                "finished": str(a.get("finished", "")) or None,
                "wall_time": float(wall) if wall is not None else None, "counters": self._json("counters", {})}

    def close(self) -> None:
        """Nothing to release (the file was read and closed on opening)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TrainFile(_ResultFile):
    """A training run written by :func:`pathtrack.nn.train.save_result` (format ``pathtrack-train``).

    Attributes
    ----------
    network : dict
        ``widths``, ``activation``, ``temperature``, ``dtype``.
    config : dict
        The training configuration.
    params : ndarray
    curves : dict of ndarray
        ``epoch``, ``loss``, ``pr``, ``wall_time`` and, when stored, ``test_pr``.
    """

    FORMAT = TRAIN_FORMAT
    DATASETS = TRAIN_DATASETS
    ATTRS = TRAIN_ATTRS
    LEGACY_ATTRS = ("format",) + TRAIN_V1_NETWORK_ATTRS

    def _read_attrs(self) -> None:
        if self.schema_version == 1:
            a = self.attrs
            self.network = {"widths": [int(w) for w in np.atleast_1d(a["widths"])], "activation": str(a["activation"]),
                            "temperature": float(a["temperature"]), "dtype": str(a["dtype"])}
            skip = {"format", "format_version", *TRAIN_V1_NETWORK_ATTRS}
            self.config = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in a.items() if k not in skip}
        else:
            self.network, self.config = self._json("network"), self._json("config")
        if not isinstance(self.network, dict) or not isinstance(self.config, dict):
            raise StorageError(f"{self.path}: network/config attributes are not JSON objects")
        self.params = self.data["params"]
        self.curves = {k[len("curves/"):]: v for k, v in self.data.items() if k.startswith("curves/")}

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        c = self.curves
        last = {k: float(c[k][-1]) if k in c and len(c[k]) else None for k in ("loss", "pr", "test_pr")}
        return {**self.header(), "network": self.network, "config": self.config, "n_params": int(self.params.size),
                "n_epochs": max(len(c["epoch"]) - 1, 0), "loss_end": last["loss"], "pr_end": last["pr"],
                "test_pr_end": last["test_pr"]}


class SolveFile(_ResultFile):
    """The endpoints and solutions of a polynomial solve (format ``pathtrack-solve``).

    Attributes
    ----------
    system : str
    variables, equations : list of str
    options, summary_json : dict
        The solve options and ``SolveResult.summary()`` as stored.
    kind_names : list of str
        Names of the endpoint kinds ``data["paths/kind"]`` indexes.
    """

    FORMAT = SOLVE_FORMAT
    DATASETS = SOLVE_DATASETS
    ATTRS = SOLVE_ATTRS
    LEGACY_ATTRS = SOLVE_V1_ATTRS

    def _read_attrs(self) -> None:
        self.system = str(self.attrs["system"])
        self.variables = self._json("variables")
        self.equations = self._json("equations")
        self.options = self._json("options")
        self.summary_json = self._json("summary")
        self.kind_names = self._json("kind_names")
        if not isinstance(self.summary_json, dict):
            raise StorageError(f"{self.path}: summary attribute is not a JSON object")

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        out = {**self.header(), "system": self.system, "variables": self.variables, "equations": self.equations,
               "seed": int(self.attrs["seed"])}
        out.update({k: v for k, v in self.summary_json.items() if k not in out})
        return out


class ParameterFile(_ResultFile):
    """Solutions of a parametrized system at many parameter values (format ``pathtrack-parameters``).

    Attributes
    ----------
    system : str
    variables, parameters, equations : list of str
        Unknowns, parameters, and the equations in both.
    q0 : ndarray
        The start parameters (complex); ``data["start/solutions"]`` solve the system there.
    options, summary_json : dict
        The solve options and ``ParameterSolveResult.summary()`` as stored.
    kind_names : list of str
    """

    FORMAT = PARAMETER_FORMAT
    DATASETS = PARAMETER_DATASETS
    ATTRS = PARAMETER_ATTRS

    def _read_attrs(self) -> None:
        self.system = str(self.attrs["system"])
        self.variables = self._json("variables")
        self.parameters = self._json("parameters")
        self.equations = self._json("equations")
        self.options = self._json("options")
        self.summary_json = self._json("summary")
        self.kind_names = self._json("kind_names")
        q0 = self._json("q0")
        try:
            self.q0 = np.array([complex(re, im) for re, im in q0], dtype=np.complex128)
        except (TypeError, ValueError):
            raise StorageError(f"{self.path}: q0 attribute is not a list of [re, im] pairs") from None
        width = {"start/solutions": len(self.variables), "targets/values": len(self.parameters)}
        for key, n in width.items():
            if self.data[key].ndim != 2 or self.data[key].shape[1] != n:
                raise StorageError(f"{self.path}: {key} has shape {self.data[key].shape}, expected (k, {n})")
        if len(self.q0) != len(self.parameters) or not isinstance(self.summary_json, dict):
            raise StorageError(f"{self.path}: q0 or summary attribute does not match the parameters")

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        out = {**self.header(), "system": self.system, "variables": self.variables, "parameters": self.parameters,
               "equations": self.equations, "seed": int(self.attrs["seed"])}
        out.update({k: v for k, v in self.summary_json.items() if k not in out})
        return out


_READERS = {PATH_FORMAT: PathFile, SOLVE_FORMAT: SolveFile, TRAIN_FORMAT: TrainFile, PARAMETER_FORMAT: ParameterFile}


def open_file(path: str) -> Union[PathFile, SolveFile, TrainFile, ParameterFile]:
    """Open any file pathtrack writes, by its ``format`` attribute (what ``pathtrack inspect`` reads)."""
    h = h5.open_read(str(path))
    try:
        fmt, _ = identify(root_attrs(h, str(path)), str(path))
    finally:
        h.close()
    return _READERS[fmt](path)


def load(path: str) -> PathFile:
    """Open a pathtrack path file read-only (lazily; use as a context manager or call ``close()``)."""
    return PathFile(path)


def _reason_names(ds, rows: np.ndarray) -> np.ndarray:
    """Reason names of ``rows``: decoded through the column's ``names`` attribute, or strings (schema 1)."""
    if ds.dtype.kind in "iu":
        names = json.loads(ds.attrs["names"])
        return np.array([names[str(int(r))] for r in rows], dtype=object)  # KeyError: damaged
    return np.array([decode(r) for r in rows], dtype=object)
