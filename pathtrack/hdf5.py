"""Full-path HDF5 storage: one file per run, crash-safe, resumable, readable while written.

:class:`PathWriter` is an :class:`~pathtrack.tracker.Observer` that appends every
accepted step, every rejected attempt and every special point to chunked, compressed
(gzip + Fletcher-32 checksum) datasets, and rewrites a checkpoint group with the
:class:`~pathtrack.tracker.TrackerState` after each accepted step. The file is in
HDF5 SWMR mode while the run writes it, so readers (``pathtrack inspect``) can open it
concurrently, and a run killed with SIGKILL leaves a file that opens and holds every
step flushed before the kill. :func:`load` opens a file lazily.

The layout is documented in ``docs/hdf5_format.md``. Every malformed, corrupt,
truncated or mismatched file raises :class:`StorageError` with a one-line message.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ._version import __version__
from .options import TrackerOptions
from .problem import StartPoint
from .status import RejectReason, Status
from .tracker import Observer, StepRecord, TrackerState

__all__ = ["StorageError", "PathWriter", "PathFile", "load", "FORMAT", "SCHEMA_VERSION"]

FORMAT = "pathtrack-path"
SCHEMA_VERSION = 3  # 3: root attribute diagnostics_off; 2: /rejected/reason holds RejectReason codes (1: names)

#: Scalar columns of ``/steps``, one row per accepted step (row 0 is the start point).
STEP_COLUMNS = {"index": "i8", "lam": "f8", "s": "f8", "ds": "f8", "n_newton_iters": "i8", "residual": "f8",
                "contraction": "f8", "sigma_min": "f8", "cond": "f8", "det_sign": "f8", "wall_time": "f8"}
#: Columns of ``/rejected``, one row per rejected attempt (``reason`` besides: see ``_reason_column``).
REJECTED_COLUMNS = {"index": "i8", "lam": "f8", "ds": "f8", "n_newton_iters": "i8", "residual": "f8",
                    "contraction": "f8", "wall_time": "f8"}
#: Scalar columns of ``/events``, one row per special point (plus ``kind`` and ``p``).
EVENT_COLUMNS = {"lam": "f8", "s": "f8", "step": "i8", "value_a": "f8", "value_b": "f8"}
#: Scalar fields of the checkpoint (arrays ``y``, ``tangent``, ``y_prev`` and ``event_values`` besides).
CHECKPOINT_SCALARS = {"ds": "f8", "s": "f8", "lam_direction": "i8", "n_steps": "i8", "n_accepted": "i8",
                      "n_rejected": "i8", "n_consecutive": "i8", "n_newton_iters": "i8", "n_events": "i8",
                      "status": "i8", "ref_log_abs_det": "f8", "wall_time": "f8", "has_y_prev": "i8",
                      "start_lam": "f8", "heartbeat": "f8"}
#: Root attributes of every file, and those a finished run adds.
ROOT_ATTRS = ("format", "schema_version", "pathtrack_version", "problem", "parameters", "options", "created",
              "finished", "status", "end_reason", "message", "writer_pid", "writer_host", "resumed")
FINISH_ATTRS = ("n_accepted", "n_rejected", "n_steps", "wall_time", "counters")
KIND_LEN = 64  # fixed-length UTF-8 strings: variable-length data is not SWMR-safe
RESUMABLE = ("running", "interrupted", "max_steps_reached")


class StorageError(Exception):
    """A pathtrack HDF5 file is malformed, corrupt, truncated or does not match the run."""


def _h5py():
    import h5py
    return h5py


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


def problem_identity(problem) -> Tuple[str, str]:
    """``(name, parameters as canonical JSON)`` of a problem, as stored in the root attributes."""
    params = dict(getattr(problem, "params", {}) or {})
    return str(getattr(problem, "name", type(problem).__name__)), json.dumps(params, sort_keys=True, default=_jsonable)


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _column(group, name: str, dtype, width: Optional[int] = None):
    """A resizable, chunked, checksummed dataset (rows of ``width`` when given).

    Not compressed while the run writes: a compressed chunk changes size at every
    rewrite and HDF5 then allocates it anew (the file grew ~60x on a 360-step run);
    a Fletcher-32-only chunk keeps its size and is rewritten in place. :func:`_compact`
    compresses the file when the run finishes.
    """
    if width is None:
        shape, maxshape, chunks = (0,), (None,), (256,)
    else:
        rows = int(max(1, min(64, 2 ** 13 // max(width, 1))))
        shape, maxshape, chunks = (0, width), (None, width), (rows, width)
    return group.create_dataset(name, shape=shape, maxshape=maxshape, chunks=chunks, dtype=dtype,
                                fletcher32=True)


def _copy_tree(src, dst, compress: bool, block: int = 4096) -> None:
    """Copy groups, datasets (in row blocks) and attributes; compress the resizable datasets."""
    h5py = _h5py()
    for k, v in src.attrs.items():
        dst.attrs[k] = v
    for name, obj in src.items():
        if isinstance(obj, h5py.Group):
            _copy_tree(obj, dst.create_group(name), compress, block)
            continue
        kw = dict(chunks=obj.chunks, maxshape=obj.maxshape, fletcher32=obj.fletcher32)
        if compress and obj.maxshape and obj.maxshape[0] is None:
            kw.update(compression="gzip", compression_opts=4, shuffle=True)
        ds = dst.create_dataset(name, shape=obj.shape, dtype=obj.dtype, **kw)
        for start in range(0, obj.shape[0] if obj.shape else 0, block):
            ds[start:start + block] = obj[start:start + block]
        for k, v in obj.attrs.items():
            ds.attrs[k] = v


def _compact(path: str) -> None:
    """Rewrite a finished file with gzip-compressed columns, atomically (a failure keeps the original)."""
    h5py = _h5py()
    tmp = f"{path}.compact-{os.getpid()}.tmp"
    try:
        with h5py.File(path, "r") as src, h5py.File(tmp, "w", libver="latest") as dst:
            _copy_tree(src, dst, compress=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


#: Metadata read attempts of a SWMR reader. HDF5's default (100, with growing sleeps
#: between them) made a reader of a damaged file appear to hang for minutes; a few
#: attempts still ride out a writer that changes metadata mid-read.
SWMR_READ_ATTEMPTS = 4


def _hdf5_set_read_attempts():
    """``H5Pset_metadata_read_attempts`` from the libhdf5 h5py loaded (not wrapped by h5py), or None."""
    import ctypes
    try:
        with open("/proc/self/maps") as fh:
            libs = {line.split()[-1] for line in fh if "libhdf5" in line and "libhdf5_hl" not in line}
        for lib in sorted(libs):
            fn = getattr(ctypes.CDLL(lib), "H5Pset_metadata_read_attempts", None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int64, ctypes.c_uint]
                return fn
    except OSError:
        pass
    return None


def _open_swmr_read(path: str):
    h5py = _h5py()
    set_attempts = _hdf5_set_read_attempts()
    if set_attempts is None:
        return h5py.File(path, "r", libver="latest", swmr=True)
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    set_attempts(fapl.id, SWMR_READ_ATTEMPTS)
    fid = h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDONLY | h5py.h5f.ACC_SWMR_READ, fapl=fapl)
    return h5py.File(fid)


def _superblock_eof(path: str) -> Optional[int]:
    """The end-of-file address a version 2/3 superblock records (None for other layouts).

    HDF5 checks it against the file size only outside SWMR; a SWMR reader of a
    truncated file can loop on missing metadata, so :class:`PathFile` checks it first.
    """
    with open(path, "rb") as fh:
        head = fh.read(48)
    if len(head) < 48 or head[:8] != b"\x89HDF\r\n\x1a\n" or head[8] not in (2, 3) or head[9] != 8:
        return None
    return int.from_bytes(head[28:36], "little")


def _fixed(group, name: str, value, dtype="f8"):
    """A fixed-size checksummed dataset (for the checkpoint), rewritten in place."""
    value = np.atleast_1d(np.asarray(value, dtype=dtype))
    ds = group.create_dataset(name, shape=value.shape, dtype=dtype, chunks=value.shape if value.size else None,
                              fletcher32=bool(value.size))
    if value.size:
        ds[...] = value
    return ds


def _append(ds, values) -> None:
    values = np.asarray(values, dtype=ds.dtype if ds.dtype.kind == "S" else None)
    if values.shape[0] == 0:
        return
    k = ds.shape[0]
    ds.resize(k + values.shape[0], axis=0)
    ds[k:] = values


def _trim(datasets, rows: Optional[int] = None) -> None:
    """Cut datasets to a common number of rows: their shortest, or ``rows`` if fewer (never grow)."""
    shortest = min(d.shape[0] for d in datasets)
    rows = shortest if rows is None else min(rows, shortest)
    for d in datasets:
        if d.shape[0] != rows:
            d.resize(rows, axis=0)


def _str_dtype(length: int):
    return _h5py().string_dtype("utf-8", length)


def _reason_column(group):
    """``/rejected/reason``: int8 :class:`RejectReason` codes; the ``names`` attribute maps codes to names (JSON)."""
    ds = _column(group, "reason", "i1")
    ds.attrs["names"] = json.dumps({str(int(r)): r.name for r in RejectReason})
    return ds


def _reason_codes(names) -> List[int]:
    """RejectReason codes of reason names (a resumed file's rows)."""
    try:
        return [int(RejectReason.parse(n)) for n in names]
    except ValueError as exc:
        raise StorageError(f"cannot store reject reason ({exc})") from None


def _reason_names(ds, rows: np.ndarray) -> np.ndarray:
    """Reason names of ``rows`` read from ``ds``: decoded through its ``names`` attribute, or strings (schema 1)."""
    if ds.dtype.kind in "iu":
        names = json.loads(ds.attrs["names"])
        return np.array([names[str(int(r))] for r in rows], dtype=object)  # KeyError: damaged
    return np.array([_decode(r) for r in rows], dtype=object)


def _clip(text: str, length: int) -> bytes:
    raw = str(text).encode("utf-8")[:length]
    return raw.decode("utf-8", "ignore").encode("utf-8")


class PathWriter(Observer):
    """Observer writing a run to one HDF5 file (see ``docs/hdf5_format.md``).

    Use :meth:`create` for a new run and :meth:`resume` to continue one from its
    checkpoint. The file is flushed after an accepted step when ``flush_interval``
    seconds have passed since the last flush (0: after every accepted step), after
    every special point, and always when the run finishes.
    """

    def __init__(self, path: str, problem, options: TrackerOptions, *, flush_interval: float = 0.5,
                 _file=None):
        self.path = str(path)
        self.problem = problem
        self.options = options
        self.flush_interval = float(flush_interval)
        self._f = _file
        self._rows = 0  # committed accepted-step rows
        self._metric_names: List[str] = []
        self._event_names: List[str] = []
        self._last_flush = time.monotonic()
        self._pending_flush = False  # a special point was located: flush at this step
        self._p_every = int(options.store_p_every)
        self._last_p_step = -1
        self.closed = False
        self._committed: Optional[TrackerState] = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path: str, problem, options: TrackerOptions, force: bool = False, *,
               flush_interval: float = 0.5) -> "PathWriter":
        """Start a new file; refuse to overwrite an existing one unless ``force``."""
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{path} exists; pass --force (force=True) to overwrite it")
        h5py = _h5py()
        try:
            f = h5py.File(path, "w", libver="latest")
        except OSError as exc:
            raise StorageError(f"{path}: cannot create HDF5 file ({_one_line(exc)})") from None
        name, params = problem_identity(problem)
        a = f.attrs
        a["format"] = FORMAT
        a["schema_version"] = SCHEMA_VERSION
        a["pathtrack_version"] = __version__
        a["problem"] = name
        a["parameters"] = params
        a["options"] = options.to_json()
        a["created"] = _now()
        a["finished"] = ""
        a["status"] = "running"
        a["end_reason"] = ""
        a["message"] = ""
        a["writer_pid"] = os.getpid()
        a["writer_host"] = socket.gethostname()
        a["resumed"] = 0
        return cls(path, problem, options, flush_interval=flush_interval, _file=f)

    @classmethod
    def resume(cls, path: str, problem, options: TrackerOptions, *,
               flush_interval: float = 0.5) -> Tuple["PathWriter", TrackerState, StartPoint]:
        """Reopen a run's file for continuing from its checkpoint.

        The file is rebuilt from its consistent part (every column cut to the
        checkpoint) and atomically replaced, so a file left by a killed run (whose
        HDF5 write flags are still set) can be continued. ``options`` must equal the
        stored ones except ``max_steps``.

        Returns
        -------
        (writer, state, start)
        """
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file to resume")
        with load(path) as old:
            old._check_same_run(problem, options)
            if old.status == "running" and old.writer_alive():
                raise StorageError(f"{path} is being written by process {old.attrs['writer_pid']}; "
                                   "wait for it or stop it first")
            if old.status not in RESUMABLE:
                raise StorageError(f"{path}: the run ended with status {old.status!r}"
                                   + (" and has nothing left to do" if old.status == "success" else
                                      f"; only {', '.join(RESUMABLE)} runs can be resumed"))
            if not old.has_steps:
                raise StorageError(f"{path}: no checkpoint (the run stopped before its first step); start it again")
            state = old.checkpoint()
            start = old.start_point()
            tmp = f"{path}.resume-{os.getpid()}.tmp"
            try:
                writer = cls._rebuild(tmp, old, state, problem, options, flush_interval)
            except BaseException as exc:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                if isinstance(exc, Exception) and not isinstance(exc, StorageError):
                    raise StorageError(f"{path}: cannot resume ({_one_line(exc)})") from None
                raise
        os.replace(tmp, path)
        writer.path = path
        return writer, state, start

    @classmethod
    def _rebuild(cls, tmp: str, old: "PathFile", state: TrackerState, problem, options, flush_interval):
        h5py = _h5py()
        f = h5py.File(tmp, "w", libver="latest")
        for k, v in old.attrs.items():
            f.attrs[k] = v
        f.attrs["schema_version"] = SCHEMA_VERSION  # the rebuilt layout is this version's
        f.attrs["options"] = options.to_json()
        f.attrs["status"] = "running"
        f.attrs["finished"] = ""
        f.attrs["writer_pid"] = os.getpid()
        f.attrs["writer_host"] = socket.gethostname()
        f.attrs["resumed"] = int(old.attrs.get("resumed", 0)) + 1
        w = cls(tmp, problem, options, flush_interval=flush_interval, _file=f)
        rows = state.n_accepted + 1
        cp = old._cp_arrays()
        w._layout(old.n, np.dtype(old._p_dtype), cp["y"].shape[0], list(old.metrics_names),
                  json.loads(old._h["checkpoint/event_values"].attrs["names"]), cp["start_p"])
        if old.num_steps < rows:
            raise StorageError(f"{old.path}: truncated: the checkpoint is at step {state.n_accepted} "
                               f"but only {old.num_steps} steps are stored")
        steps = f["steps"]
        for name in STEP_COLUMNS:
            _append(steps[name], old._col("steps", name)[:rows])
        for name in old.metrics_names:
            _append(steps["metrics"][name], old._col("steps/metrics", name)[:rows])
        p_steps = old.p_steps
        keep = int(np.searchsorted(p_steps, rows - 1, side="right"))
        _append(steps["p_steps"], p_steps[:keep])
        _append(steps["p"], old.p[:keep])
        _append(steps["tangent"], old.tangent[:keep])
        w._last_p_step = int(p_steps[keep - 1]) if keep else -1
        rej = old.rejected
        nrej = state.n_rejected
        if len(rej["index"]) < nrej:
            raise StorageError(f"{old.path}: truncated: {len(rej['index'])} rejected steps stored, "
                               f"checkpoint says {nrej}")
        for name in REJECTED_COLUMNS:
            _append(f["rejected"][name], rej[name][:nrej])
        _append(f["rejected"]["reason"], _reason_codes(rej["reason"][:nrej]))
        evs = old.events
        nev = state.n_events
        if len(evs) < nev:
            raise StorageError(f"{old.path}: truncated: {len(evs)} events stored, checkpoint says {nev}")
        for name in EVENT_COLUMNS:
            _append(f["events"][name], [e[name] for e in evs[:nev]])
        _append(f["events"]["kind"], [_clip(e["kind"], KIND_LEN) for e in evs[:nev]])
        _append(f["events"]["p"], old._ds("events/p")[:nev] if nev else np.zeros((0, old.n), old._p_dtype))
        w._rows = rows
        f["checkpoint/start_lam"][0] = cp["start_lam"]
        w._commit(state)
        w._write_checkpoint(state)
        f.swmr_mode = True
        f.flush()
        return w

    # ------------------------------------------------------------------ layout
    def _layout(self, n: int, p_dtype, m1: int, metric_names: List[str], event_names: List[str],
                start_p: np.ndarray) -> None:
        f = self._f
        f.attrs["n"] = int(n)
        f.attrs["p_dtype"] = np.dtype(p_dtype).name
        steps = f.create_group("steps")
        for name, dt in STEP_COLUMNS.items():
            _column(steps, name, dt)
        mg = steps.create_group("metrics")
        mg.attrs["names"] = json.dumps(list(metric_names))
        for name in metric_names:
            _column(mg, name, "f8")
        self._metric_names = list(metric_names)
        _column(steps, "p", p_dtype, n)
        _column(steps, "p_steps", "i8")
        _column(steps, "tangent", "f8", m1)
        rej = f.create_group("rejected")
        for name, dt in REJECTED_COLUMNS.items():
            _column(rej, name, dt)
        _reason_column(rej)
        evg = f.create_group("events")
        for name, dt in EVENT_COLUMNS.items():
            _column(evg, name, dt)
        _column(evg, "kind", _str_dtype(KIND_LEN))
        _column(evg, "p", p_dtype, n)
        cp = f.create_group("checkpoint")
        for name in ("y", "tangent", "y_prev"):
            _fixed(cp, name, np.zeros(m1))
        for name, dt in CHECKPOINT_SCALARS.items():
            _fixed(cp, name, 0, dt)
        ev = _fixed(cp, "event_values", np.zeros(len(event_names)))
        ev.attrs["names"] = json.dumps(event_names)
        self._event_names = list(event_names)
        _fixed(cp, "start_p", start_p, p_dtype)

    # ------------------------------------------------------------------ observer hooks
    def on_start(self, tracker, record: StepRecord) -> None:
        p = np.asarray(record.p)
        st = tracker.state
        self._layout(p.shape[0], p.dtype, st.y.shape[0], sorted(record.metrics), sorted(st.event_values), p)
        self._f["checkpoint/start_lam"][0] = record.lam
        self._f.attrs["diagnostics_off"] = json.dumps(dict(getattr(tracker, "diagnostics_off", {})), sort_keys=True)
        self._append_step(record)
        self._commit(st)
        self._f.swmr_mode = True  # from here on: no new objects, readers may attach
        self._flush()

    def on_step(self, tracker, record: StepRecord) -> None:
        if self._f is None or "steps" not in self._f:
            return
        if record.accepted:
            self._append_step(record)
            self._commit(tracker.state)
            if self._pending_flush or time.monotonic() - self._last_flush >= self.flush_interval:
                self._flush()
        else:
            rej = self._f["rejected"]
            for name in REJECTED_COLUMNS:
                _append(rej[name], [getattr(record, name)])
            _append(rej["reason"], [int(record.reason)])

    def on_event(self, tracker, point) -> None:
        if self._f is None or "events" not in self._f:
            return
        self._pending_flush = True
        evg = self._f["events"]
        for name in EVENT_COLUMNS:
            _append(evg[name], [getattr(point, name)])
        _append(evg["kind"], [_clip(point.kind, KIND_LEN)])
        _append(evg["p"], np.asarray(point.p)[None, :])

    def on_finish(self, tracker) -> None:
        self.finalize(tracker.state, getattr(tracker.system, "counters", lambda: {})(),
                      diagnostics_off=getattr(tracker, "diagnostics_off", None))

    # ------------------------------------------------------------------ writing
    def _append_step(self, r: StepRecord) -> None:
        steps = self._f["steps"]
        k = self._rows
        for name in STEP_COLUMNS:
            _append(steps[name], [getattr(r, name)])
        for name in self._metric_names:  # metrics first seen later cannot be added under SWMR
            _append(steps["metrics"][name], [r.metrics.get(name, np.nan)])
        if k % self._p_every == 0:
            self._add_p_row(k, r.p, r.tangent)
        self._rows = k + 1

    def _add_p_row(self, k: int, p, tangent) -> None:
        steps = self._f["steps"]
        _append(steps["p"], np.asarray(p)[None, :])
        _append(steps["tangent"], np.asarray(tangent, dtype=float)[None, :])
        _append(steps["p_steps"], [k])
        self._last_p_step = k

    def _write_checkpoint(self, st: TrackerState) -> None:
        cp = self._f["checkpoint"]
        d = st.to_checkpoint()
        cp["y"][...] = d["y"]
        cp["tangent"][...] = d["tangent"]
        has_prev = d["y_prev"].size > 0
        cp["y_prev"][...] = d["y_prev"] if has_prev else np.full(d["y"].shape, np.nan)
        for name in CHECKPOINT_SCALARS:
            if name in d:
                cp[name][0] = d[name]
        cp["has_y_prev"][0] = int(has_prev)
        cp["heartbeat"][0] = time.time()
        vals = [st.event_values.get(k, np.nan) for k in self._event_names]
        if vals:
            cp["event_values"][...] = vals

    def _commit(self, state: TrackerState) -> None:
        """Copy the state that matches the rows written so far (what the next flush checkpoints).

        The tracker counts an accepted step before it reports it; a Ctrl-C in between
        leaves a state one step ahead of the rows, so the file keeps this copy instead.
        """
        self._committed = TrackerState.from_checkpoint(state.to_checkpoint())

    def _flush(self) -> None:
        """Columns first, then the checkpoint: on disk the checkpoint never runs ahead of the steps.

        HDF5 may write a dataset's raw data before the extents of the other datasets
        reach the file, so a checkpoint written between flushes could describe steps
        a killed run never stored; written only after the steps are flushed, it cannot.
        """
        self._f.flush()
        self._write_checkpoint(self._committed)
        self._f.flush()
        self._last_flush = time.monotonic()
        self._pending_flush = False

    def finalize(self, state: Optional[TrackerState], counters: Optional[Dict[str, int]] = None,
                 diagnostics_off: Optional[Dict[str, str]] = None) -> None:
        """Write the final status and close the file (called by ``on_finish``; idempotent)."""
        if self.closed or self._f is None:
            return
        h5py = _h5py()
        has_steps = "steps" in self._f
        if has_steps and state is not None and state.n_accepted + 1 != self._rows:
            # interrupted between counting and reporting a step: end at the last reported one
            final = TrackerState.from_checkpoint(self._committed.to_checkpoint())
            final.status, final.end_reason = state.status, state.end_reason
            state = final
        final_y = None
        if has_steps and state is not None and self._last_p_step != self._rows - 1 and self._rows:
            final_y = (state.y.copy(), state.tangent.copy())
        self._f.flush()
        self._f.close()
        # reopened without SWMR: attributes can be written and columns cut to the committed rows
        with h5py.File(self.path, "r+", libver="latest") as f:
            self._f = f
            if has_steps:  # cut rows half-written when an interrupt hit a write
                _trim([f["steps"][c] for c in STEP_COLUMNS] + [f["steps/metrics"][c] for c in self._metric_names],
                      self._rows)
                _trim([f["steps"][c] for c in ("p", "p_steps", "tangent")])
                _trim([f["rejected"][c] for c in (*REJECTED_COLUMNS, "reason")],
                      None if state is None else state.n_rejected)
                _trim([f["events"][c] for c in (*EVENT_COLUMNS, "kind", "p")],
                      None if state is None else state.n_events)
                if final_y is not None:  # keep the final point even between p rows
                    n = int(f.attrs["n"])
                    y = final_y[0]
                    p = y[:n] + 1j * y[n:2 * n] if np.dtype(f.attrs["p_dtype"]).kind == "c" else y[:-1]
                    self._add_p_row(self._rows - 1, p, final_y[1])
                if state is not None:
                    self._write_checkpoint(state)
            if state is not None:
                a = f.attrs
                a["status"] = state.status.name
                a["end_reason"] = state.end_reason
                a["message"] = state.status.message
                a["n_accepted"] = state.n_accepted
                a["n_rejected"] = state.n_rejected
                a["n_steps"] = state.n_steps
                a["wall_time"] = state.wall_time
            f.attrs["counters"] = json.dumps(counters or {}, sort_keys=True)
            if diagnostics_off is not None:
                f.attrs["diagnostics_off"] = json.dumps(dict(diagnostics_off), sort_keys=True)
            f.attrs["finished"] = _now()
        self._f = None
        self.closed = True
        try:
            _compact(self.path)
        except Exception as exc:  # the uncompressed file is complete and valid; keep it
            import warnings
            warnings.warn(f"{self.path}: left uncompressed ({_one_line(exc)})", RuntimeWarning, stacklevel=2)

    def close(self) -> None:
        """Close without a final status (the file stays ``running``, resumable)."""
        if self._f is not None and not self.closed:
            self._f.flush()
            self._f.close()
            self._f = None
            self.closed = True


# ====================================================================== reading
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
    rejected : dict of ndarray (``reason`` as the :class:`RejectReason` name)
    events : list of dict (``kind, lam, s, step, value_a, value_b``); ``event_p(i)`` the located point.
    """

    def __init__(self, path: str):
        self.path = str(path)
        self._cache: Dict[str, Any] = {}
        h5py = _h5py()
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"{self.path}: no such file")
        try:
            try:  # a closed file: HDF5 checks it fully (truncation included)
                self._h = h5py.File(self.path, "r")
            except OSError as exc:
                if "already open for write" not in str(exc):
                    raise
                # a writer is active or was killed: SWMR read, after our own truncation check
                eof = _superblock_eof(self.path)
                size = os.path.getsize(self.path)
                if eof is not None and size < eof:
                    raise StorageError(f"{self.path}: truncated file ({size} bytes, the superblock says "
                                       f"{eof})") from None
                self._h = _open_swmr_read(self.path)
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"{self.path}: not a readable HDF5 file ({_one_line(exc)})") from None
        try:
            self._validate()
        except StorageError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise StorageError(f"{self.path}: corrupt pathtrack file ({_one_line(exc)})") from None

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        try:
            attrs = {k: self._h.attrs[k] for k in self._h.attrs.keys()}
        except Exception as exc:
            raise StorageError(f"{self.path}: unreadable attributes ({_one_line(exc)})") from None
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
        if attrs.get("format") != FORMAT:
            raise StorageError(f"{self.path}: not a pathtrack path file (format attribute "
                               f"{attrs.get('format')!r}, expected {FORMAT!r})")
        required = ROOT_ATTRS + (FINISH_ATTRS if attrs.get("status") != "running" else ())
        for key in required:
            if key not in attrs:
                raise StorageError(f"{self.path}: missing root attribute {key!r}")
        try:
            version = int(attrs["schema_version"])
        except (TypeError, ValueError):
            raise StorageError(f"{self.path}: bad schema_version {attrs['schema_version']!r}") from None
        if version > SCHEMA_VERSION or version < 1:
            raise StorageError(f"{self.path}: schema_version {version} is not supported (this pathtrack reads "
                               f"1..{SCHEMA_VERSION}); upgrade pathtrack")
        self.attrs = attrs
        try:
            self.parameters = json.loads(attrs["parameters"])
            self.options = TrackerOptions.from_json(attrs["options"])
        except Exception as exc:
            raise StorageError(f"{self.path}: bad parameters/options attribute ({_one_line(exc)})") from None
        if not isinstance(self.parameters, dict):
            raise StorageError(f"{self.path}: parameters attribute is not a JSON object")
        self.problem = str(attrs["problem"])
        self.status = str(attrs["status"])
        if self.status not in Status.__members__:
            raise StorageError(f"{self.path}: unknown status {self.status!r}")
        self.has_steps = "steps" in self._h
        self.metrics_names: List[str] = []
        if not self.has_steps:
            if "n" in attrs or any(g in self._h for g in ("rejected", "events", "checkpoint")):
                raise StorageError(f"{self.path}: missing group /steps")
            self.num_steps = 0
            return
        for key in ("n", "p_dtype"):
            if key not in attrs:
                raise StorageError(f"{self.path}: missing root attribute {key!r}")
        self.n = int(attrs["n"])
        self._p_dtype = np.dtype(str(attrs["p_dtype"]))
        self.diagnostics_off = self._diagnostics_off(attrs, version)
        required = [f"steps/{c}" for c in STEP_COLUMNS] + ["steps/p", "steps/p_steps", "steps/tangent"]
        required += [f"rejected/{c}" for c in (*REJECTED_COLUMNS, "reason")]
        required += [f"events/{c}" for c in (*EVENT_COLUMNS, "kind", "p")]
        required += [f"checkpoint/{c}" for c in ("y", "tangent", "y_prev", "event_values", "start_p",
                                                 *CHECKPOINT_SCALARS)]
        for key in required:
            if key not in self._h:
                raise StorageError(f"{self.path}: missing dataset /{key}")
        if "steps/metrics" not in self._h:
            raise StorageError(f"{self.path}: missing group /steps/metrics")
        try:
            self.metrics_names = list(json.loads(self._h["steps/metrics"].attrs["names"]))
        except Exception as exc:
            raise StorageError(f"{self.path}: bad /steps/metrics names attribute ({_one_line(exc)})") from None
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
    def _read(self, fn, what: str):
        try:
            return fn()
        except Exception as exc:
            raise StorageError(f"{self.path}: cannot read /{what} ({_one_line(exc)})") from None

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

    def _diagnostics_off(self, attrs: Dict[str, Any], version: int) -> Optional[Dict[str, str]]:
        """``{test: why}`` of the tests that did not run; None where the file does not say (before version 3)."""
        if "diagnostics_off" not in attrs:
            if version >= 3 and self.status != "running":
                raise StorageError(f"{self.path}: missing root attribute 'diagnostics_off'")
            return None
        try:
            value = json.loads(attrs["diagnostics_off"])
        except Exception as exc:
            raise StorageError(f"{self.path}: bad diagnostics_off attribute ({_one_line(exc)})") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise StorageError(f"{self.path}: diagnostics_off attribute is not a JSON object of strings")
        return value

    def _cp_arrays(self) -> Dict[str, Any]:
        if "checkpoint" not in self._cache:
            def read():
                cp = self._ds("checkpoint")
                d = {k: cp[k][...] for k in ("y", "tangent", "y_prev", "event_values", "start_p")}
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
        kinds = [_decode(k) for k in self._col("events", "kind")]
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
        try:
            os.kill(int(self.attrs.get("writer_pid", -1)), 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OSError, ValueError, OverflowError):
            return True
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
            raise StorageError(f"{self.path}: bad checkpoint ({_one_line(exc)})") from None
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
        state = "finished" if self.finished else ("being written" if self.writer_alive() else
                                                  "incomplete (writer gone; resume with --resume)")
        out = {
            "file": self.path, "format": self.attrs["format"], "schema_version": int(self.attrs["schema_version"]),
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
            "diagnostics_off": getattr(self, "diagnostics_off", None),
        }
        if not self.finished and self.has_steps:
            out["last_checkpoint_age_s"] = time.time() - self.heartbeat()
        return out

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


def _decode(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def load(path: str) -> PathFile:
    """Open a pathtrack HDF5 file read-only (lazily; use as a context manager or call ``close()``)."""
    return PathFile(path)
