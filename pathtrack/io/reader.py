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
from .schema import (CHECKPOINT_ARRAYS, CHECKPOINT_SCALARS, CYCLES_ATTRS, CYCLES_CHECKPOINT_SCALARS, CYCLES_DATASETS, CYCLES_FORMAT,
                     DIAGRAM_ATTRS, DIAGRAM_FORMAT, EVENT_COLUMNS, HEADER_FINISH_ATTRS, KIND_OF_FORMAT, PARAMETER_ATTRS,
                     PARAMETER_DATASETS, PARAMETER_FORMAT, PATH_ATTRS, TREE_COLUMNS, branch_group, PATH_FINISH_ATTRS,
                     CURVE_ATTRS, CYCLE_BRANCH_ATTRS, TABLE_CHECKPOINT_ARRAYS, TREE_END_COLUMNS, curve_group,
                     cycle_group,
                     PATH_FORMAT, REJECTED_COLUMNS, SOLVE_ATTRS, SOLVE_CERTIFICATE_DATASETS, SOLVE_DATASETS,
                     SOLVE_FORMAT, SOLVE_V1_ATTRS, STEP_COLUMNS,
                     TRAIN_ATTRS, TRAIN_DATASETS, TRAIN_FORMAT, TRAIN_V1_NETWORK_ATTRS, StorageError, one_line,
                     event_datasets, path_datasets, problem_identity)
from .validate import check_status, identify, require_attrs, require_datasets, root_attrs

__all__ = ["PathFile", "TrainFile", "SolveFile", "DiagramFile", "load", "open_file"]


def _writer_alive(status: str, attrs: Dict[str, Any]) -> bool:
    """Whether the writer named in ``attrs`` of a ``running`` file still exists (same host only)."""
    if status != "running":
        return False
    if str(attrs.get("writer_host", "")) != socket.gethostname():
        return True  # cannot tell from here; assume it is
    return h5.pid_alive(attrs.get("writer_pid", -1))


def _validate_or_close(reader, what: str, first=None) -> None:
    """Run ``first()`` and ``reader._validate()``; on any failure close the reader and raise a StorageError."""
    try:
        if first is not None:
            first()
        reader._validate()
    except StorageError:
        reader.close()
        raise
    except Exception as exc:
        reader.close()
        raise StorageError(f"{reader.path}: corrupt pathtrack {what} ({one_line(exc)})") from None


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

    def __init__(self, path: str, group: Optional[str] = None, *, _handle=None):
        self.path = str(path)
        self.group = group  # a branch of a diagram file: a path file's layout under this group
        self._cache: Dict[str, Any] = {}
        self._file = h5.open_read(self.path) if _handle is None else _handle
        self._owns = _handle is None
        try:
            self._h = self._file if group is None else self._file[group]
        except Exception:
            self._h = None
            self.close()
            raise StorageError(f"{self.path}: missing group /{group}") from None
        _validate_or_close(self, "file", lambda: setattr(self, "_ino", h5.inode(self._file, self.path)))

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        attrs = root_attrs(self._h, self.path)
        _, version = identify(attrs, self.path, PATH_FORMAT)
        self.schema_version = version
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
        require_datasets(self._h, self.path, path_datasets(version) + ("steps/metrics",))
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
        ev_lengths = {self._h[f"events/{c}"].shape[0] for c in event_datasets(version)}
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
        extras = self.event_extras
        return [{"kind": kinds[i], **{k: cols[k][i].item() for k in EVENT_COLUMNS}, **extras[i]}
                for i in range(len(kinds))]

    @property
    def event_extras(self) -> List[Dict[str, Any]]:
        """Per event, what the point stored besides the columns: its normal-form coefficients
        (``l1`` at a Hopf point, ``a``, ``b``, ... at a fold or branch point); empty before path schema 4."""
        if not self.has_steps:
            return []
        if "events/extra" not in self._h:
            return [{} for _ in range(self._n_events)]
        try:
            out = [json.loads(decode(x) or "{}") for x in self._col("events", "extra")]
        except ValueError as exc:
            raise StorageError(f"{self.path}: bad /events/extra row ({one_line(exc)})") from None
        if not all(isinstance(x, dict) for x in out):
            raise StorageError(f"{self.path}: an /events/extra row is not a JSON object")
        return out

    def event_p(self, i: int) -> np.ndarray:
        """The located point of event ``i``."""
        return _Rows(self, "events/p", self._n_events if self.has_steps else 0)[i]

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def writer_alive(self) -> bool:
        """Whether the process that writes a ``running`` file still exists (same host only)."""
        return _writer_alive(self.status, self.attrs)

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
        self.__init__(self.path, self.group)

    def close(self) -> None:
        if getattr(self, "_file", None) is not None and self._owns:
            try:
                self._file.close()
            except Exception:
                pass
        self._file = self._h = None

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
    #: The first schema version with the common header (older ones are read as LEGACY_ATTRS).
    HEADER_SINCE = 2

    def __init__(self, path: str, *, _group=None):
        self.path = str(path)
        h = h5.open_read(self.path) if _group is None else _group  # a group of an open file: read, not closed
        try:
            self.attrs = root_attrs(h, self.path)
            self.format, self.schema_version = identify(self.attrs, self.path, self.FORMAT)
            legacy = self.schema_version < self.HEADER_SINCE
            require_attrs(self.attrs, self.path, self.LEGACY_ATTRS if legacy else self.ATTRS)
            self.status = "success" if legacy else check_status(self.attrs, self.path)
            self.message = str(self.attrs.get("message", ""))
            require_datasets(h, self.path, self.DATASETS)
            self.data: Dict[str, np.ndarray] = {}
            h.visititems(lambda name, obj: self.data.__setitem__(name, obj[()]) if hasattr(obj, "shape") else None)
            self._handle = h  # open while _read_attrs runs (dataset attributes)
            self._read_attrs()
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{self.path}: corrupt pathtrack file ({one_line(exc)})") from None
        finally:
            self._handle = None
            if _group is None:
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
    certificate : dict of ndarray or None
        ``center``, ``radius``, ``status``, ``real``, ``root`` per regular solution when the
        solve was certified (:data:`~pathtrack.io.schema.SOLVE_CERTIFICATE_DATASETS`), else None.
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
        self.certificate = None
        if any(k.startswith("certificate/") for k in self.data):
            missing = [k for k in SOLVE_CERTIFICATE_DATASETS if k not in self.data]
            if missing:
                raise StorageError(f"{self.path}: missing dataset /{missing[0]} of the certificates")
            n_regular = len(self.data["solutions/regular"])
            if any(len(self.data[k]) != n_regular for k in SOLVE_CERTIFICATE_DATASETS):
                raise StorageError(f"{self.path}: certificate datasets do not have one row per regular solution "
                                   f"({n_regular})")
            self.certificate = {k.split("/", 1)[1]: self.data[k] for k in SOLVE_CERTIFICATE_DATASETS}

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        out = {**self.header(), "system": self.system, "variables": self.variables, "equations": self.equations,
               "seed": int(self.attrs["seed"])}
        out.update({k: v for k, v in self.summary_json.items() if k not in out})
        return out


class DiagramFile:
    """A bifurcation-diagram file opened read-only: the tree, and every branch as a :class:`PathFile`.

    Attributes
    ----------
    attrs : dict
        The root attributes (see ``docs/hdf5_format.md``).
    problem, parameters, options, status, depth
        Problem name, its parameters, the branches' :class:`TrackerOptions`, the status name,
        the switching depth.
    tree : dict of ndarray
        The columns of ``/tree`` (``branch``, ``parent``, ``origin_event``, ``depth``, ``n_children``).
    branches : list of PathFile
        One per stored branch, in tree order (each reads its group lazily).
    explorer : dict
        What a resume continues from (``pending`` branches, branch points met, ``unswitched`` points).
    curves : list of PathFile
        The fold and Hopf curves stored under ``/curves`` (schema 2; ``pathtrack fold|hopf --out``).
    curve_info : list of dict
        Per curve: ``curve`` (its number), ``curve_kind``, ``par2``, ``parent_branch``, ``parent_event``.
    cycles : list of CyclesFile
        The cycle branches stored under ``/cycles`` (schema 3; ``pathtrack diagram --cycles``), each
        read as a cycles file (``orbits``, ``points``, ``special_points``, ``hopf`` ...).
    cycle_info : list of dict
        Per cycle branch: ``cycle`` (its number), ``parent_branch`` and ``parent_event`` (its Hopf point).
    cycle_options : TrackerOptions or None
        The options of the cycle branches (None: the diagram continues none).
    """

    def __init__(self, path: str):
        self.path = str(path)
        self.branches: List[PathFile] = []
        self.curves: List[PathFile] = []
        self.cycles: List["CyclesFile"] = []
        self._memory: List[Any] = []  # the in-memory path files of schema 2's branches
        self._file = h5.open_read(self.path)
        _validate_or_close(self, "diagram file")

    def _validate(self) -> None:
        attrs = root_attrs(self._file, self.path)
        _, version = identify(attrs, self.path, DIAGRAM_FORMAT)
        finished = attrs.get("status") != "running"
        require_attrs(attrs, self.path, DIAGRAM_ATTRS + (HEADER_FINISH_ATTRS if finished else ()))
        self.attrs = attrs
        try:
            self.parameters = json.loads(attrs["parameters"])
            self.options = TrackerOptions.from_json(attrs["options"])
            self.explorer = json.loads(attrs["explorer"])
            cycle_options = str(attrs.get("cycle_options", ""))  # schema 3
            self.cycle_options = TrackerOptions.from_json(cycle_options) if cycle_options else None
        except Exception as exc:
            raise StorageError(f"{self.path}: bad parameters/options/explorer/cycle_options attribute ({one_line(exc)})") from None
        self.problem = str(attrs["problem"])
        self.status = check_status(attrs, self.path)
        self.depth = int(attrs["depth"])
        columns = list(TREE_COLUMNS) + (list(TREE_END_COLUMNS) if version >= 2 else [])
        require_datasets(self._file, self.path, [f"tree/{c}" for c in columns])
        lengths = {self._file[f"tree/{c}"].shape[0] for c in columns}
        if finished and len(lengths) > 1:
            raise StorageError(f"{self.path}: /tree columns differ in length")
        rows = min(lengths)  # a killed writer may leave a partly written last row: not committed
        self.tree = {c: np.asarray(self._file[f"tree/{c}"][:rows]) for c in columns}
        if version >= 2:
            self.tree["n_children"] = np.array([int(np.sum(self.tree["parent"] == b)) for b in self.tree["branch"]],
                                               dtype=np.int64)
            self.branches = self._table_branches(rows) if rows else []
            if rows and not finished:  # the state the last committed branch left
                slot = self._file[f"tables/explorer_{(rows - 1) % 2}"][:int(self.tree["explorer_len"][-1])]
                try:
                    self.explorer = json.loads(slot.tobytes().decode("utf-8"))
                except ValueError as exc:
                    raise StorageError(f"{self.path}: bad /tables/explorer_{(rows - 1) % 2} ({one_line(exc)})") \
                        from None
        else:
            self.branches = [PathFile(self.path, branch_group(b), _handle=self._file) for b in self.tree["branch"]]
        numbers = sorted(int(k) for k in self._file["curves"].keys()) if "curves" in self._file else []
        if numbers != list(range(len(numbers))):
            raise StorageError(f"{self.path}: /curves holds groups {numbers}, expected 0..{len(numbers) - 1}")
        self.curve_info = []
        for k in numbers:
            c = PathFile(self.path, curve_group(k), _handle=self._file)
            self.curves.append(c)
            require_attrs(c.attrs, f"{self.path}:/{curve_group(k)}", CURVE_ATTRS)
            self.curve_info.append({"curve": k, "curve_kind": str(c.attrs["curve_kind"]), "par2": str(c.attrs["par2"]),
                                    "parent_branch": int(c.attrs["parent_branch"]),
                                    "parent_event": int(c.attrs["parent_event"])})
        numbers = sorted(int(k) for k in self._file["cycles"].keys()) if "cycles" in self._file else []
        if numbers != list(range(len(numbers))):
            raise StorageError(f"{self.path}: /cycles holds groups {numbers}, expected 0..{len(numbers) - 1}")
        self.cycle_info = []
        for k in numbers:
            where = f"{self.path}:/{cycle_group(k)}"
            c = CyclesFile(where, _group=self._file[cycle_group(k)])
            require_attrs(c.attrs, where, CYCLE_BRANCH_ATTRS)
            self.cycles.append(c)
            self.cycle_info.append({"cycle": k, **{a: int(c.attrs[a]) for a in CYCLE_BRANCH_ATTRS}})

    def _table_branches(self, rows: int) -> List[PathFile]:
        """Schema 2: each committed branch's rows of ``/tables`` as a path file in memory."""
        require_datasets(self._file, self.path, ["tables/json", "tables/explorer_0", "tables/explorer_1",
                                                 "tables/steps/metrics"]
                         + [f"tables/{k}" for k in path_datasets() if not k.startswith("checkpoint/")]
                         + [f"tables/checkpoint/{k}" for k in TABLE_CHECKPOINT_ARRAYS])
        t = self._file["tables"]
        ends = {c: np.concatenate([[0], self.tree[c]]).astype(np.int64) for c in TREE_END_COLUMNS
                if c != "explorer_len"}
        table_of = {"steps": "steps_end", "steps/metrics": "steps_end", "rejected": "rejected_end",
                    "events": "events_end"}
        data: Dict[str, np.ndarray] = {}
        for group, end in table_of.items():
            for name, ds in t[group].items():
                if hasattr(ds, "shape") and not (group == "steps" and name in ("p", "p_steps", "tangent")):
                    data[f"{group}/{name}"] = ds[:ends[end][-1]]
        for name in ("p", "p_steps", "tangent"):
            data[f"steps/{name}"] = t[f"steps/{name}"][:ends["p_end"][-1]]
        raw = t["json"][:ends["json_end"][-1]]
        self._docs = []
        out = []
        for k in range(rows):
            def rows_of(end: str):
                return slice(int(ends[end][k]), int(ends[end][k + 1]))
            try:
                doc = json.loads(raw[rows_of("json_end")].tobytes().decode("utf-8"))
            except ValueError as exc:
                raise StorageError(f"{self.path}: bad /tables/json document of branch row {k} ({one_line(exc)})") \
                    from None
            self._docs.append(doc)
            mem = h5.h5py().File(f"pathtrack-diagram-{id(self)}-{k}", "w", driver="core", backing_store=False)
            self._memory.append(mem)
            mem.attrs.update(doc["attrs"])
            for key, v in data.items():
                group, name = key.rsplit("/", 1)
                if group == "steps/metrics" and name not in doc["metrics"]:
                    continue
                mem.require_group(group).create_dataset(
                    name, data=v[rows_of("p_end" if key in ("steps/p", "steps/p_steps", "steps/tangent")
                                         else table_of[group])])
            mem.require_group("steps/metrics").attrs["names"] = json.dumps(doc["metrics"])
            mem["rejected/reason"].attrs["names"] = t["rejected/reason"].attrs["names"]
            cp = mem.create_group("checkpoint")
            for name in TABLE_CHECKPOINT_ARRAYS:
                cp.create_dataset(name, data=t[f"checkpoint/{name}"][k])
            for name, v in doc["scalars"].items():
                cp.create_dataset(name, data=np.array([v], dtype=CHECKPOINT_SCALARS[name]))
            values = doc["event_values"]
            cp.create_dataset("event_values", data=np.array(list(values.values()), dtype=float))
            cp["event_values"].attrs["names"] = json.dumps(list(values))
            out.append(PathFile(self.path, _handle=mem))
        return out

    @property
    def finished(self) -> bool:
        return self.status != "running"

    def writer_alive(self) -> bool:
        """Whether the process that writes a ``running`` diagram still exists (same host only)."""
        return _writer_alive(self.status, self.attrs)

    def points(self) -> List[Dict[str, Any]]:
        """Every special point of every branch: ``branch``, ``event`` (its row) and the event's fields."""
        return [{"branch": int(b), "event": i, **e}
                for b, f in zip(self.tree["branch"], self.branches) for i, e in enumerate(f.events)]

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints for a diagram."""
        rows = []
        for k, f in enumerate(self.branches):
            lam = f.lam
            rows.append({"branch": int(self.tree["branch"][k]), "parent": int(self.tree["parent"][k]),
                         "origin_event": int(self.tree["origin_event"][k]), "depth": int(self.tree["depth"][k]),
                         "n_children": int(self.tree["n_children"][k]), "status": f.status,
                         "end_reason": str(f.attrs.get("end_reason", "")), "n_accepted": max(f.num_steps - 1, 0),
                         "lam_start": float(lam[0]) if lam.size else None,
                         "lam_end": float(lam[-1]) if lam.size else None,
                         "events": [e["kind"] for e in f.events]})
        return {"file": self.path, "kind": KIND_OF_FORMAT[DIAGRAM_FORMAT], "format": self.attrs["format"],
                "schema_version": int(self.attrs["schema_version"]),
                "pathtrack_version": str(self.attrs["pathtrack_version"]), "problem": self.problem,
                "parameters": self.parameters, "status": self.status, "message": str(self.attrs["message"]),
                "depth": self.depth, "created": str(self.attrs["created"]),
                "finished": str(self.attrs["finished"]) or None, "n_branches": len(self.branches),
                "n_pending": len(self.explorer.get("pending", [])), "branches": rows,
                "unswitched": list(self.explorer.get("unswitched", [])), "points": self.points(),
                "curves": [{**info, "status": c.status, "n_accepted": max(c.num_steps - 1, 0),
                            "par2_start": float(c.lam[0]) if c.lam.size else None,
                            "par2_end": float(c.lam[-1]) if c.lam.size else None, "events": c.events}
                           for info, c in zip(self.curve_info, self.curves)],
                "cycles": [{**info, "status": c.status, "end_reason": c.end_reason, "hopf_lam": self._hopf_lam(info, c),
                            "n_orbits": len(c.orbits["lam"]),
                            "lam_end": float(c.orbits["lam"][-1]) if len(c.orbits["lam"]) else None,
                            "period_end": float(c.orbits["period"][-1]) if len(c.orbits["lam"]) else None,
                            "special_points": [{k: sp[k] for k in ("kind", "lam")} for sp in c.special_points]}
                           for info, c in zip(self.cycle_info, self.cycles)],
                "wall_time": float(self.attrs["wall_time"]) if "wall_time" in self.attrs else None}

    def _hopf_lam(self, info: Dict[str, int], c: "CyclesFile") -> Optional[float]:
        """λ of a cycle branch's Hopf point: its own record, or (a branch whose first orbit failed has none)
        the event of its parent branch."""
        if "lam" in c.hopf:
            return float(c.hopf["lam"])
        rows = [k for k, b in enumerate(self.tree["branch"]) if int(b) == info["parent_branch"]]
        events = self.branches[rows[0]].events if rows else []
        return float(events[info["parent_event"]]["lam"]) if info["parent_event"] < len(events) else None

    def close(self) -> None:
        for f in self.branches + getattr(self, "curves", []):
            f.close()
        for mem in getattr(self, "_memory", []):
            mem.close()
        self._memory = []
        if getattr(self, "_file", None) is not None:
            try:
                self._file.close()
            except Exception:
                pass
            self._file = None

    def __enter__(self) -> "DiagramFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()


class CyclesFile(_ResultFile):
    """A branch of periodic orbits written by :func:`pathtrack.io.write_cycles` (format ``pathtrack-cycles``).

    Attributes
    ----------
    problem : str
    parameters, options, hopf : dict
    special_points : list of dict
    orbits : dict of ndarray
        ``lam``, ``period``, ``l2``, ``amplitude``, ``s``, ``ds``, ``n_unstable``, ``n_newton_iters``,
        ``wall_time``; ``multipliers`` (complex, (k, n)), ``mesh`` and ``profile``.
    points : dict
        Per special point (schema 2; empty before): ``json`` (its dict), ``p`` (node profile and
        period) and ``mesh``.
    checkpoint : dict or None
        What a resume continues from (schema 2 files written by a run).

    A file still being written, or left by a killed run, holds the orbits its last checkpoint counts.
    """

    FORMAT = CYCLES_FORMAT
    DATASETS = ()  # required once the first orbit is written (see _read_attrs)
    ATTRS = CYCLES_ATTRS
    HEADER_SINCE = 1

    def _read_attrs(self) -> None:
        self.problem = str(self.attrs["problem"])
        self.parameters, self.options = self._json("parameters"), self._json("options")
        self.hopf, self.special_points = self._json("hopf"), self._json("special_points")
        self.end_reason = str(self.attrs["end_reason"])
        if not all(isinstance(v, dict) for v in (self.parameters, self.options, self.hopf)) \
                or not isinstance(self.special_points, list):
            raise StorageError(f"{self.path}: parameters/options/hopf/special_points attributes are malformed")
        # a run's file is laid out at its first orbit (a branch whose first orbit failed has none)
        if "orbits" in self._handle or (self.status != "running" and int(self.attrs.get("n_accepted", 1)) > 0):
            require_datasets(self._handle, self.path, CYCLES_DATASETS)
        o = {k[len("orbits/"):]: v for k, v in self.data.items() if k.startswith("orbits/")}
        if not o:  # a run that has not reached its first orbit
            o = {k[len("orbits/"):]: np.zeros((0,)) for k in CYCLES_DATASETS}
        pts = {k[len("points/"):]: v for k, v in self.data.items() if k.startswith("points/")}
        cp = {k[len("checkpoint/"):]: v for k, v in self.data.items() if k.startswith("checkpoint/")}
        self.checkpoint = None
        if cp:
            missing = [c for c in ("y", "tangent", "mesh", "values", "scalars") if c not in cp]
            if missing or len(cp["scalars"]) != len(CYCLES_CHECKPOINT_SCALARS):
                raise StorageError(f"{self.path}: missing or malformed dataset /checkpoint/"
                                   f"{missing[0] if missing else 'scalars'}")
            self.checkpoint = {c: cp[c] for c in ("y", "tangent", "mesh", "values")}
            self.checkpoint.update({c: (float(v) if c in ("ds", "s", "wall_time") else int(v))
                                    for c, v in zip(CYCLES_CHECKPOINT_SCALARS, cp["scalars"])})
            self.checkpoint["value_names"] = json.loads(self._handle["checkpoint/values"].attrs["names"])
        if self.status == "running":  # being written, or killed: the rows the last checkpoint counts
            n_orbits = self.checkpoint["n_orbits"] if self.checkpoint else 0
            n_points = self.checkpoint["n_points"] if self.checkpoint else 0
            o = {c: v[:n_orbits] for c, v in o.items()}
            pts = {c: v[:n_points] for c, v in pts.items()}
        k = len(o["lam"])
        if any(len(v) != k for v in o.values()):
            raise StorageError(f"{self.path}: the /orbits columns have different lengths")
        o["multipliers"] = o.pop("multipliers_re") + 1j * o.pop("multipliers_im")
        self.orbits = o
        if pts and len({len(v) for v in pts.values()}) > 1:
            raise StorageError(f"{self.path}: the /points columns have different lengths")
        self.points = {"json": [json.loads(decode(t)) for t in pts.get("json", [])],
                       "p": pts.get("p", np.zeros((0, 0))), "mesh": pts.get("mesh", np.zeros((0, 0)))}
        if self.status == "running":
            self.special_points = list(self.points["json"])

    def summary(self) -> Dict[str, Any]:
        """What ``pathtrack inspect --json`` prints."""
        o = self.orbits
        span = (lambda v: [float(v.min()), float(v.max())] if len(v) else None)  # noqa: E731
        return {**self.header(), "problem": self.problem, "parameters": self.parameters,
                "end_reason": self.end_reason, "hopf": self.hopf, "ntst": int(self.attrs["ntst"]),
                "ncol": int(self.attrs["ncol"]), "n_orbits": len(o["lam"]), "lam_range": span(o["lam"]),
                "period_range": span(o["period"]), "l2_range": span(o["l2"]),
                "special_points": self.special_points}


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


_READERS = {PATH_FORMAT: PathFile, SOLVE_FORMAT: SolveFile, TRAIN_FORMAT: TrainFile, DIAGRAM_FORMAT: DiagramFile,
            CYCLES_FORMAT: CyclesFile, PARAMETER_FORMAT: ParameterFile}


def _format(path: str) -> str:
    h = h5.open_read(str(path))
    try:
        fmt, _ = identify(root_attrs(h, str(path)), str(path))
    finally:
        h.close()
    return fmt


def open_file(path: str) -> Union[PathFile, SolveFile, TrainFile, DiagramFile, CyclesFile, ParameterFile]:
    """Open any file pathtrack writes, by its ``format`` attribute (what ``pathtrack inspect`` reads)."""
    return _READERS[_format(path)](path)


def load(path: str) -> Union[PathFile, DiagramFile]:
    """Open a pathtrack path or diagram file read-only (lazily; use as a context manager or call ``close()``)."""
    try:
        is_diagram = _format(path) == DIAGRAM_FORMAT
    except (StorageError, OSError):
        is_diagram = False  # PathFile says what is wrong
    return DiagramFile(path) if is_diagram else PathFile(path)


def _reason_names(ds, rows: np.ndarray) -> np.ndarray:
    """Reason names of ``rows``: decoded through the column's ``names`` attribute, or strings (schema 1)."""
    if ds.dtype.kind in "iu":
        names = json.loads(ds.attrs["names"])
        return np.array([names[str(int(r))] for r in rows], dtype=object)  # KeyError: damaged
    return np.array([decode(r) for r in rows], dtype=object)
