"""Writers of pathtrack's HDF5 files: tracked paths (crash-safe, resumable) and finished results.

:class:`PathWriter` is an :class:`~pathtrack.tracker.Observer` that appends every
accepted step, every rejected attempt and every special point to chunked,
checksummed datasets, and rewrites a checkpoint group with the
:class:`~pathtrack.tracker.TrackerState` after each accepted step. The file is in
HDF5 SWMR mode while the run writes it, so readers (``pathtrack inspect``) can open it
concurrently, and a run killed with SIGKILL leaves a file that opens and holds every
step flushed before the kill. :func:`write_train` and :func:`write_solve` store a
finished training run or polynomial solve. The layouts are in ``docs/hdf5_format.md``.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from ..options import TrackerOptions
from ..problem import StartPoint
from ..status import RejectReason, Status
from ..tracker import Observer, StepRecord, TrackerState
from . import h5
from .schema import (CHECKPOINT_SCALARS, CYCLES_CHECKPOINT_SCALARS, CYCLES_COLUMNS, CYCLES_FORMAT,
                     CYCLES_INT_COLUMNS, POINT_JSON_LEN, DIAGRAM_FORMAT, EVENT_COLUMNS, EVENT_EXTRA_LEN, KIND_LEN,
                     PATH_FORMAT, REJECTED_COLUMNS, TABLE_CHECKPOINT_ARRAYS, TREE_COLUMNS, TREE_END_COLUMNS,
                     CYCLE_BRANCH_ATTRS, curve_group, cycle_group, event_datasets,
                     SCHEMA_VERSIONS, STEP_COLUMNS, TRAIN_FORMAT, StorageError, finish_header, jsonable, now, one_line,
                     problem_identity, reason_names_attr, write_header)

if TYPE_CHECKING:  # the reader imports this module's names; only annotations need it here
    from .reader import PathFile

__all__ = ["PathWriter", "DiagramWriter", "CycleWriter", "write_result", "write_train", "write_cycles"]


def _diagnostics_json(diagnostics_off) -> str:
    """The ``diagnostics_off`` root attribute: JSON ``{test or column: why}``."""
    return json.dumps({str(k): str(v) for k, v in dict(diagnostics_off or {}).items()}, sort_keys=True)


def _path_columns(f, n: int, p_dtype, m1: int, metric_names: List[str]) -> None:
    """The empty, resizable ``steps``, ``rejected`` and ``events`` groups of a path file (or of a diagram's tables)."""
    steps = f.create_group("steps")
    for name, dt in STEP_COLUMNS.items():
        h5.column(steps, name, dt)
    mg = steps.create_group("metrics")
    mg.attrs["names"] = json.dumps(list(metric_names))
    for name in metric_names:
        h5.column(mg, name, "f8")
    h5.column(steps, "p", p_dtype, n)
    h5.column(steps, "p_steps", "i8")
    h5.column(steps, "tangent", "f8", m1)
    rej = f.create_group("rejected")
    for name, dt in REJECTED_COLUMNS.items():
        h5.column(rej, name, dt)
    h5.column(rej, "reason", "i1").attrs["names"] = reason_names_attr()
    evg = f.create_group("events")
    for name, dt in EVENT_COLUMNS.items():
        h5.column(evg, name, dt)
    h5.column(evg, "kind", h5.str_dtype(KIND_LEN))
    h5.column(evg, "p", p_dtype, n)
    h5.column(evg, "extra", h5.str_dtype(EVENT_EXTRA_LEN))


def _extra_json(extra: Mapping[str, Any]) -> bytes:
    """A row of ``/events/extra``: the point's ``extra`` as JSON (keys dropped from the end if too long)."""
    items = list(dict(extra or {}).items())
    while True:
        raw = json.dumps(dict(items), default=jsonable).encode("utf-8")
        if len(raw) <= EVENT_EXTRA_LEN or not items:
            return raw
        items.pop()


def _reason_codes(names) -> List[int]:
    """RejectReason codes of reason names (the rows of a file being resumed)."""
    try:
        return [int(RejectReason.parse(n)) for n in names]
    except ValueError as exc:
        raise StorageError(f"cannot store reject reason ({exc})") from None


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
        self._header: Dict[str, Any] = {}  # root attributes of a new run, written again at its first step

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path: str, problem, options: TrackerOptions, force: bool = False, *,
               flush_interval: float = 0.5) -> "PathWriter":
        """Start a new file; refuse to overwrite an existing one unless ``force``.

        The file appears at once, closed and holding the header with status ``running``
        and no steps, so a reader sees a run that is starting; the first step replaces it
        by the file the run writes (see :meth:`on_start`).
        """
        path = str(path)
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
        h5.remove_stale_tmp(path)
        name, params = problem_identity(problem)
        header: Dict[str, Any] = {}
        write_header(header, PATH_FORMAT)
        header.update(problem=name, parameters=params, options=options.to_json(), end_reason="",
                      writer_pid=os.getpid(), writer_host=socket.gethostname(), resumed=0)
        with h5.replacing(path, "create", force=force) as tmp:
            with h5.create(tmp) as f:
                f.attrs.update(header)
        w = cls(path, problem, options, flush_interval=flush_interval)
        w._header = header
        return w

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
        from .reader import load

        with load(path) as old:
            old._check_same_run(problem, options)
            if old.status == "running" and old.writer_alive():
                raise StorageError(f"{path} is being written by process {old.attrs['writer_pid']}; "
                                   "wait for it or stop it first")
            if old.status != "running" and not Status[old.status].is_resumable:
                resumable = ["running"] + [s.name for s in Status if s.is_resumable]
                raise StorageError(f"{path}: the run ended with status {old.status!r}"
                                   + (" and has nothing left to do" if old.status == "success" else
                                      f"; only {', '.join(resumable)} runs can be resumed"))
            if not old.has_steps:
                raise StorageError(f"{path}: no checkpoint (the run stopped before its first step); start it again")
            state = old.checkpoint()
            start = old.start_point()
            h5.remove_stale_tmp(path)
            writer = None
            try:
                with h5.replacing(path, "resume") as tmp:
                    writer = cls._rebuild(tmp, old, state, problem, options, flush_interval)
            except BaseException as exc:
                if writer is not None:
                    writer.close()
                if isinstance(exc, Exception) and not isinstance(exc, StorageError):
                    raise StorageError(f"{path}: cannot resume ({one_line(exc)})") from None
                raise
        writer.path = path
        return writer, state, start

    @classmethod
    def _rebuild(cls, tmp: str, old: "PathFile", state: TrackerState, problem, options, flush_interval):
        f = h5.create(tmp)
        try:
            return cls._rebuild_into(f, tmp, old, state, problem, options, flush_interval)
        except BaseException:
            f.close()
            raise

    @classmethod
    def _rebuild_into(cls, f, tmp: str, old: "PathFile", state: TrackerState, problem, options, flush_interval):
        for k, v in old.attrs.items():
            f.attrs[k] = v
        f.attrs["schema_version"] = SCHEMA_VERSIONS[PATH_FORMAT]  # the rebuilt layout is this version's
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
            h5.append(steps[name], old._col("steps", name)[:rows])
        for name in old.metrics_names:
            h5.append(steps["metrics"][name], old._col("steps/metrics", name)[:rows])
        p_steps = old.p_steps
        keep = int(np.searchsorted(p_steps, rows - 1, side="right"))
        h5.append(steps["p_steps"], p_steps[:keep])
        h5.append(steps["p"], old.p[:keep])
        h5.append(steps["tangent"], old.tangent[:keep])
        w._last_p_step = int(p_steps[keep - 1]) if keep else -1
        rej = old.rejected
        nrej = state.n_rejected
        if len(rej["index"]) < nrej:
            raise StorageError(f"{old.path}: truncated: {len(rej['index'])} rejected steps stored, "
                               f"checkpoint says {nrej}")
        for name in REJECTED_COLUMNS:
            h5.append(f["rejected"][name], rej[name][:nrej])
        h5.append(f["rejected"]["reason"], _reason_codes(rej["reason"][:nrej]))
        evs = old.events
        nev = state.n_events
        if len(evs) < nev:
            raise StorageError(f"{old.path}: truncated: {len(evs)} events stored, checkpoint says {nev}")
        for name in EVENT_COLUMNS:
            h5.append(f["events"][name], [e[name] for e in evs[:nev]])
        h5.append(f["events"]["kind"], [h5.clip(e["kind"], KIND_LEN) for e in evs[:nev]])
        h5.append(f["events"]["p"], old._ds("events/p")[:nev] if nev else np.zeros((0, old.n), old._p_dtype))
        h5.append(f["events"]["extra"], [_extra_json(x) for x in old.event_extras[:nev]])
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
        _path_columns(f, n, p_dtype, m1, metric_names)
        self._metric_names = list(metric_names)
        cp = f.create_group("checkpoint")
        for name in ("y", "tangent", "y_prev"):
            h5.fixed(cp, name, np.zeros(m1))
        for name, dt in CHECKPOINT_SCALARS.items():
            h5.fixed(cp, name, 0, dt)
        ev = h5.fixed(cp, "event_values", np.zeros(len(event_names)))
        ev.attrs["names"] = json.dumps(event_names)
        self._event_names = list(event_names)
        h5.fixed(cp, "start_p", start_p, p_dtype)

    # ------------------------------------------------------------------ observer hooks
    def on_start(self, tracker, record: StepRecord) -> None:
        """Lay the file out at the run's first step and switch it to SWMR mode.

        The layout is built in a new file that then replaces the header-only one of
        :meth:`create`: readers can attach to an HDF5 file only once it is in SWMR mode,
        and a reader still holding the header-only file never blocks this writer.
        """
        if self._f is not None:
            return
        with h5.replacing(self.path, "layout") as tmp:
            self._f = h5.create(tmp)
            try:
                self._f.attrs.update(self._header)
                p = np.asarray(record.p)
                st = tracker.state
                self._layout(p.shape[0], p.dtype, st.y.shape[0], sorted(record.metrics), sorted(st.event_values), p)
                self._f["checkpoint/start_lam"][0] = record.lam
                self._f.attrs["diagnostics_off"] = _diagnostics_json(getattr(tracker, "diagnostics_off", {}))
                self._append_step(record)
                self._commit(st)
                self._f.swmr_mode = True  # from here on: no new objects, readers may attach
                self._flush()
            except BaseException:
                self._f.close()
                self._f = None
                raise

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
                h5.append(rej[name], [getattr(record, name)])
            h5.append(rej["reason"], [int(record.reason)])

    def on_event(self, tracker, point) -> None:
        if self._f is None or "events" not in self._f:
            return
        self._pending_flush = True
        evg = self._f["events"]
        for name in EVENT_COLUMNS:
            h5.append(evg[name], [getattr(point, name)])
        h5.append(evg["kind"], [h5.clip(point.kind, KIND_LEN)])
        h5.append(evg["p"], np.asarray(point.p)[None, :])
        h5.append(evg["extra"], [_extra_json(point.extra)])

    def on_finish(self, tracker) -> None:
        self.finalize(tracker.state, getattr(tracker.system, "counters", lambda: {})(),
                      diagnostics_off=getattr(tracker, "diagnostics_off", None))

    # ------------------------------------------------------------------ writing
    def _append_step(self, r: StepRecord) -> None:
        steps = self._f["steps"]
        k = self._rows
        for name in STEP_COLUMNS:
            h5.append(steps[name], [getattr(r, name)])
        for name in self._metric_names:  # metrics first seen later cannot be added under SWMR
            h5.append(steps["metrics"][name], [r.metrics.get(name, np.nan)])
        if k % self._p_every == 0:
            self._add_p_row(k, r.p, r.tangent)
        self._rows = k + 1

    def _add_p_row(self, k: int, p, tangent) -> None:
        steps = self._f["steps"]
        h5.append(steps["p"], np.asarray(p)[None, :])
        h5.append(steps["tangent"], np.asarray(tangent, dtype=float)[None, :])
        h5.append(steps["p_steps"], [k])
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
        """Write the final status and close the file (called by ``on_finish``; idempotent).

        ``diagnostics_off`` (``{test: why}``, the tracker's) is stored when given.

        The finished file is a compressed copy that replaces the one the run wrote
        (:func:`~pathtrack.io.h5.rewrite`), so a reader holding the file open keeps
        reading the version it opened and never blocks the writer with its file lock.
        """
        if self.closed:
            return
        has_steps = self._f is not None and "steps" in self._f
        if has_steps and state is not None and state.n_accepted + 1 != self._rows:
            # interrupted between counting and reporting a step: end at the last reported one
            final = TrackerState.from_checkpoint(self._committed.to_checkpoint())
            final.status, final.end_reason = state.status, state.end_reason
            state = final
        final_y = None
        if has_steps and state is not None and self._last_p_step != self._rows - 1 and self._rows:
            final_y = (state.y.copy(), state.tangent.copy())
        self.close()

        def finish(f) -> None:
            self._finish_file(f, has_steps, state, final_y, counters)
            if diagnostics_off is not None:
                f.attrs["diagnostics_off"] = _diagnostics_json(diagnostics_off)

        try:
            h5.rewrite(self.path, finish)
        except Exception as exc:  # no room for the copy: finish the uncompressed file in place
            import warnings
            warnings.warn(f"{self.path}: left uncompressed ({one_line(exc)})", RuntimeWarning, stacklevel=2)
            with h5.create(self.path, "r+") as f:
                finish(f)

    def _finish_file(self, f, has_steps: bool, state: Optional[TrackerState], final_y, counters) -> None:
        """Cut the columns to the committed rows and write the final status into ``f``."""
        self._f = f
        try:
            if has_steps:  # cut rows half-written when an interrupt hit a write
                h5.trim([f["steps"][c] for c in STEP_COLUMNS] + [f["steps/metrics"][c] for c in self._metric_names],
                        self._rows)
                h5.trim([f["steps"][c] for c in ("p", "p_steps", "tangent")])
                h5.trim([f["rejected"][c] for c in (*REJECTED_COLUMNS, "reason")],
                        None if state is None else state.n_rejected)
                h5.trim([f["events"][c] for c in event_datasets()],
                        None if state is None else state.n_events)
                if final_y is not None:  # keep the final point even between p rows
                    n = int(f.attrs["n"])
                    y = final_y[0]
                    p = y[:n] + 1j * y[n:2 * n] if np.dtype(f.attrs["p_dtype"]).kind == "c" else y[:-1]
                    self._add_p_row(self._rows - 1, p, final_y[1])
                if state is not None:
                    self._write_checkpoint(state)
            a = f.attrs
            counters_json = json.dumps(counters or {}, sort_keys=True)
            if state is not None:
                finish_header(a, state.status.name, state.status.message, state.wall_time, counters_json)
                a["end_reason"] = state.end_reason
                a["n_accepted"] = state.n_accepted
                a["n_rejected"] = state.n_rejected
                a["n_steps"] = state.n_steps
            else:
                a["counters"] = counters_json
                a["finished"] = now()
        finally:
            self._f = None

    def close(self) -> None:
        """Close without a final status (the file stays ``running``, resumable)."""
        if self.closed:
            return
        self._f = _flush_close(self._f)
        self.closed = True




# ------------------------------------------------------------------------------ diagram files
class DiagramWriter:
    """Writes a bifurcation diagram to one HDF5 file, appending one finished branch at a time.

    Each branch is tracked into a temporary path file by a :class:`PathWriter` and, when it
    ends, its rows are appended to the diagram's shared tables (``/tables``, schema 2), then
    its ``/tree`` row, which commits it, with the explorer's state (the branches still to
    track). The file is in SWMR mode from the first branch on: readers open it while it is
    written, a kill at any moment leaves a file holding every committed branch (at most the
    branch in progress is lost, and ``--resume`` continues from the stored queue), and the
    cost of a branch is that of its own rows, whatever the size of the file.
    """

    def __init__(self, path: str):
        self.path = str(path)
        self._f = None  # the open SWMR file, from the first branch on
        self._ends = {c: 0 for c in TREE_END_COLUMNS}
        self._metric_names: List[str] = []
        self._ds: Dict[str, Any] = {}

    @classmethod
    def create(cls, path: str, problem, options: TrackerOptions, depth: int, explorer: Dict[str, Any],
               force: bool = False, cycle_options: Optional[TrackerOptions] = None) -> "DiagramWriter":
        """Start a new diagram file holding no branch; refuse to overwrite one unless ``force``.

        ``cycle_options``: the options of the cycle branches continued from its Hopf points (None: none).
        """
        path = str(path)
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
        h5.remove_stale_tmp(path)
        name, params = problem_identity(problem)
        with h5.replacing(path, "create", force=force) as tmp, h5.create(tmp) as f:
            write_header(f.attrs, DIAGRAM_FORMAT)
            f.attrs.update(problem=name, parameters=params, options=options.to_json(), depth=int(depth),
                           explorer=json.dumps(explorer, default=jsonable), writer_pid=os.getpid(),
                           writer_host=socket.gethostname(),
                           cycle_options="" if cycle_options is None else cycle_options.to_json())
            _tree_layout(f)
        return cls(path)

    @classmethod
    def reopen(cls, path: str) -> "DiagramWriter":
        """Continue writing a diagram file: a new version holding its committed branches replaces it.

        A file of schema 1 (a group per branch) is converted to the tables of schema 2.
        """
        from .reader import DiagramFile

        path = str(path)
        h5.remove_stale_tmp(path)
        w = cls(path)
        with DiagramFile(path) as old:
            rows = [{c: int(old.tree[c][k]) for c in TREE_COLUMNS} for k in range(len(old.branches))]
            with h5.replacing(path, "resume") as tmp:
                f = h5.create(tmp)
                try:
                    for k, v in old.attrs.items():
                        f.attrs[k] = v
                    f.attrs.update(status="running", finished="", writer_pid=os.getpid(),
                                   writer_host=socket.gethostname(), schema_version=SCHEMA_VERSIONS[DIAGRAM_FORMAT],
                                   explorer=json.dumps(old.explorer, default=jsonable))
                    _tree_layout(f)
                    w._f = f
                    for k, (row, b) in enumerate(zip(rows, old.branches)):
                        if k == 0:
                            w._tables_layout(b)
                        w._append(b, row, old.explorer if k == len(rows) - 1 else {})
                    for group in ("curves", "cycles"):  # what was added to an interrupted diagram stays with it
                        if group in old._file:
                            old._file.copy(old._file[group], f, group)
                    if rows:
                        f.swmr_mode = True
                        f.flush()
                    else:
                        f.close()
                        w._f = None
                except BaseException:
                    f.close()
                    w._f = None
                    raise
        return w

    def branch_path(self) -> str:
        """The temporary path file the branch in progress is written to."""
        return h5.tmp_path(self.path, "branch")

    def add_branch(self, branch: int, tree_row: Dict[str, int], explorer: Dict[str, Any],
                   n_children: Optional[Dict[int, int]] = None) -> None:
        """Append the finished branch file's rows to the diagram, then its tree row and the explorer's state.

        ``n_children`` updates the ``n_children`` column of earlier branches ``{branch: count}``.
        The first branch lays the tables out, in a new version of the file that replaces the
        header-only one and is in SWMR mode from then on.
        """
        from .reader import PathFile

        src = PathFile(self.branch_path())
        try:
            if self._f is None:
                def fill(f) -> None:
                    self._f = f
                    with h5.h5py().File(self.path, "r") as old:
                        h5.copy_tree(old, f, compress=False)
                    self._tables_layout(src)
                    self._append(src, tree_row, explorer, n_children)

                try:
                    h5.swmr_version(self.path, fill)
                except BaseException:
                    self._f = None
                    raise
            else:
                self._append(src, tree_row, explorer, n_children)
        finally:
            src.close()
        os.unlink(self.branch_path())

    def _tables_layout(self, src) -> None:
        """The empty shared tables, shaped like the path file ``src`` (a :class:`~pathtrack.io.PathFile`)."""
        f = self._f
        t = f.create_group("tables")
        cp = src._cp_arrays()
        m1 = int(cp["y"].shape[0])
        self._metric_names = list(src.metrics_names)
        _path_columns(t, src.n, src._p_dtype, m1, self._metric_names)
        cg = t.create_group("checkpoint")
        for name in ("y", "tangent", "y_prev"):
            h5.column(cg, name, "f8", m1)
        h5.column(cg, "start_p", src._p_dtype, src.n)
        for name in ("json", "explorer_0", "explorer_1"):
            t.create_dataset(name, shape=(0,), maxshape=(None,), chunks=(1 << 14,), dtype="u1", fletcher32=True)
        self._ds = {}
        f.visititems(lambda name, obj: self._ds.__setitem__(name, obj) if hasattr(obj, "shape") else None)

    def _append(self, src, tree_row: Dict[str, int], explorer: Dict[str, Any],
                n_children: Optional[Dict[int, int]] = None) -> None:
        """Append the rows of ``src`` (a finished path file), flush, then its tree row, and flush again."""
        ds, f = self._ds, self._f
        if src.n != ds["tables/steps/p"].shape[1] or np.dtype(src._p_dtype) != ds["tables/steps/p"].dtype:
            raise StorageError(f"{src.path}: a branch of {src.n} unknowns of type {src._p_dtype}, the diagram's "
                               f"have {ds['tables/steps/p'].shape[1]} of type {ds['tables/steps/p'].dtype}")
        for name in STEP_COLUMNS:
            h5.append(ds[f"tables/steps/{name}"], src._col("steps", name))
        metrics = src.metrics
        for name in self._metric_names:  # the first branch's metrics (a metric another branch lacks: NaN)
            h5.append(ds[f"tables/steps/metrics/{name}"], metrics.get(name, np.full(src.num_steps, np.nan)))
        p_steps = src.p_steps
        h5.append(ds["tables/steps/p_steps"], p_steps)
        h5.append(ds["tables/steps/p"], src.p[:] if len(p_steps) else np.zeros((0, src.n), src._p_dtype))
        h5.append(ds["tables/steps/tangent"], src.tangent[:] if len(p_steps) else np.zeros((0, self._m1()), float))
        rej = src.rejected
        for name in REJECTED_COLUMNS:
            h5.append(ds[f"tables/rejected/{name}"], rej[name])
        h5.append(ds["tables/rejected/reason"], _reason_codes(rej["reason"]))
        events = src.events
        for name in EVENT_COLUMNS:
            h5.append(ds[f"tables/events/{name}"], [e[name] for e in events])
        h5.append(ds["tables/events/kind"], [h5.clip(e["kind"], KIND_LEN) for e in events])
        h5.append(ds["tables/events/p"], src._ds("events/p")[:len(events)])
        h5.append(ds["tables/events/extra"], [_extra_json(x) for x in src.event_extras])
        cp = src._cp_arrays()
        for name in TABLE_CHECKPOINT_ARRAYS:
            h5.append(ds[f"tables/checkpoint/{name}"], np.asarray(cp[name])[None, :])
        doc = {"attrs": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in src.attrs.items()},
               "metrics": [m for m in src.metrics_names if m in self._metric_names],
               "scalars": {k: cp[k].item() for k in CHECKPOINT_SCALARS},
               "event_values": dict(zip(cp["event_names"], np.asarray(cp["event_values"]).tolist()))}
        h5.append(ds["tables/json"], np.frombuffer(json.dumps(doc, default=jsonable).encode("utf-8"), dtype="u1"))
        state = np.frombuffer(json.dumps(explorer, default=jsonable).encode("utf-8"), dtype="u1")
        slot = ds[f"tables/explorer_{ds['tree/branch'].shape[0] % 2}"]  # not the slot of the last committed row
        if slot.shape[0] < state.size:
            slot.resize((state.size,))
        slot[:state.size] = state
        f.flush()  # the rows reach the file before the tree row that commits them
        self._ends = {c: ds[f"tables/{w}"].shape[0] for c, w in
                      (("steps_end", "steps/lam"), ("p_end", "steps/p_steps"), ("rejected_end", "rejected/lam"),
                       ("events_end", "events/lam"), ("json_end", "json"))}
        self._ends["explorer_len"] = int(state.size)
        for c in TREE_COLUMNS:
            h5.append(ds[f"tree/{c}"], [int(tree_row.get(c, 0))])
        for c in TREE_END_COLUMNS:
            h5.append(ds[f"tree/{c}"], [self._ends[c]])
        if n_children:
            ids = ds["tree/branch"][...]
            counts = ds["tree/n_children"][...]
            for b_id, n in n_children.items():
                counts[ids == b_id] = n
            ds["tree/n_children"][...] = counts
        f.flush()

    def _m1(self) -> int:
        return int(self._ds["tables/steps/tangent"].shape[1])

    @staticmethod
    def curves_stored(path: str) -> int:
        """How many curves diagram file ``path`` holds; StorageError while it is written or after a kill."""
        from .reader import DiagramFile

        with DiagramFile(path) as d:
            if d.status == "running":
                raise StorageError(f"{path}: the diagram is being written or was killed; add the curve when it has "
                                   "finished (pathtrack diagram --resume finishes a killed one)")
            return len(d.curves)

    @classmethod
    def add_curve(cls, path: str, src: str, curve_kind: str, par2: str, parent_branch: int,
                  parent_event: int) -> int:
        """Copy the finished curve path file ``src`` into diagram file ``path`` as ``/curves/NNNN``; its number.

        ``parent_branch``/``parent_event``: the branch and the row of its events the curve was
        continued from. The diagram is replaced atomically (a kill leaves it as it was).
        """
        number = cls.curves_stored(path)
        _copy_into(path, src, curve_group(number), curve_kind=str(curve_kind), par2=str(par2),
                   parent_branch=int(parent_branch), parent_event=int(parent_event))
        return number

    @staticmethod
    def add_cycles(path: str, src: str, parent_branch: int, parent_event: int) -> int:
        """Copy the finished cycles file ``src`` into diagram file ``path`` as ``/cycles/NNNN``; its number.

        ``parent_branch``/``parent_event``: the branch and the row of its events of the Hopf point the
        cycle branch starts from. The diagram is replaced atomically (a kill leaves it as it was).
        """
        with h5.h5py().File(path, "r") as f:
            number = len(f["cycles"]) if "cycles" in f else 0
        _copy_into(path, src, cycle_group(number), **dict(zip(CYCLE_BRANCH_ATTRS, (int(parent_branch),
                                                                                   int(parent_event)))))
        return number

    def finish(self, status: Status, message: str, wall_time: float, counters: Mapping[str, int],
               explorer: Dict[str, Any]) -> None:
        """Write the final status into a compressed copy (the explorer keeps what an interrupted diagram has left)."""
        self.close()

        def edit(f) -> None:
            f.attrs["explorer"] = json.dumps(explorer, default=jsonable)
            finish_header(f.attrs, status.name, message, wall_time, json.dumps(dict(counters), sort_keys=True))

        h5.rewrite(self.path, edit)

    def close(self) -> None:
        """Close the file without a final status (it stays ``running``, resumable)."""
        self._f = _flush_close(self._f)


def _copy_into(path: str, src: str, group: str, **attrs) -> None:
    """A new version of ``path`` with the file ``src`` copied into ``group`` (created), ``attrs`` added to it."""
    h5.remove_stale_tmp(path)

    def edit(f) -> None:
        parent, name = group.split("/", 1)
        g = f.require_group(parent).create_group(name)
        with h5.h5py().File(src, "r") as c:
            h5.copy_tree(c, g, compress=True)
        g.attrs.update(attrs)

    h5.rewrite(path, edit)


def _flush_close(f):
    """Flush and close an open SWMR file (None stays None); returns None for the writer's handle."""
    if f is not None:
        f.flush()
        f.close()
    return None


def _tree_layout(f) -> None:
    """The empty ``/tree`` of a diagram file (schema 2)."""
    tree = f.create_group("tree")
    for c, dt in {**TREE_COLUMNS, **TREE_END_COLUMNS}.items():
        h5.column(tree, c, dt)


# ---------------------------------------------------------------------------- finished results
def write_result(path: str, fmt: str, *, attrs: Mapping[str, Any], datasets: Mapping[str, Optional[np.ndarray]],
                 status: Status, message: str, wall_time: float, counters: Mapping[str, int],
                 force: bool = False) -> None:
    """Write a finished result file of format ``fmt``: the common header, ``attrs`` and ``datasets``.

    Parameters
    ----------
    attrs : mapping
        Root attributes besides the header (dicts and lists are stored as JSON).
    datasets : mapping of path to ndarray or None
        Arrays by their path inside the file (``"curves/loss"``); ``None`` entries are not stored.
    force : bool
        Overwrite an existing file; otherwise ``FileExistsError``.

    The file is written under a temporary name in the same directory and renamed over
    ``path`` when complete: an interrupted write leaves no partial file, and the file
    ``force`` replaces stays intact until then.
    """
    path = str(path)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
    h5.remove_stale_tmp(path)
    with h5.replacing(path, "write", force=force) as tmp, h5.create(tmp) as f:
        write_header(f.attrs, fmt)
        for key, value in attrs.items():
            f.attrs[key] = json.dumps(value, default=jsonable) if isinstance(value, (dict, list, tuple)) else value
        for key, value in datasets.items():
            if value is not None:
                group, _, name = key.rpartition("/")
                h5.array(f.require_group(group) if group else f, name, value)
        finish_header(f.attrs, status.name, message, wall_time,
                      json.dumps(dict(counters), sort_keys=True, default=jsonable))


def write_train(path: str, *, network: Mapping[str, Any], config: Mapping[str, Any], params: np.ndarray,
                curves: Mapping[str, Optional[np.ndarray]], status: Status, message: str, wall_time: float,
                counters: Mapping[str, int], force: bool = False) -> None:
    """Write a finished training run (format ``pathtrack-train``; layout in ``docs/hdf5_format.md``).

    ``network`` holds ``widths``, ``activation``, ``temperature``, ``dtype``; ``config`` the
    training configuration; ``curves`` the per-epoch arrays (``None`` entries are not stored).
    """
    write_result(path, TRAIN_FORMAT, attrs={"network": dict(network), "config": dict(sorted(config.items()))},
                 datasets={"params": params, **{f"curves/{k}": v for k, v in curves.items()}}, status=status,
                 message=message, wall_time=wall_time, counters=counters, force=force)


# ------------------------------------------------------------------------------- cycle branches
class CycleWriter:
    """Writes a branch of periodic orbits orbit by orbit (format ``pathtrack-cycles``).

    Attached to a :class:`pathtrack.periodic.continuation.CycleTracker` (its ``writer``):
    :meth:`on_start` lays the file out at the first orbit and switches it to SWMR mode,
    :meth:`on_orbit` appends every accepted orbit and every special point located since the
    last call, rewrites ``/checkpoint`` and flushes (columns first, then the checkpoint, as
    :class:`PathWriter` does), and :meth:`on_finish` writes the final status into a
    compressed copy. A run killed at any moment leaves a file that opens and holds every
    orbit flushed before the kill; :meth:`resume` continues it.
    """

    def __init__(self, path: str, problem, options: TrackerOptions):
        self.path = str(path)
        self.problem, self.options = problem, options
        self._f = None
        self._header: Dict[str, Any] = {}
        self._orbits = self._points = 0  # rows written
        self._ds: Optional[Dict[str, Any]] = None
        self._value_names: List[str] = []
        self.closed = False

    @classmethod
    def create(cls, path: str, problem, options: TrackerOptions, force: bool = False) -> "CycleWriter":
        """Start a new file (header only, status ``running``); refuse to overwrite one unless ``force``."""
        path = str(path)
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
        h5.remove_stale_tmp(path)
        w = cls(path, problem, options)
        w._header = _cycles_header(*problem_identity(problem), options.to_json(), options.ntst, options.ncol)
        with h5.replacing(path, "create", force=force) as tmp, h5.create(tmp) as f:
            f.attrs.update(w._header)
        return w

    @classmethod
    def resume(cls, path: str, problem, options: TrackerOptions) -> Tuple["CycleWriter", Any]:
        """Reopen a cycle branch's file to continue from its checkpoint.

        The file is rebuilt with every column cut to the checkpoint and atomically
        replaced; ``options`` must equal the stored ones except ``max_steps``.

        Returns
        -------
        (writer, stored) : the writer and the :class:`~pathtrack.io.CyclesFile` read before the rebuild
            (its ``orbits``, ``points`` and ``checkpoint`` are what the tracker restores).
        """
        from .reader import CyclesFile, _writer_alive

        if not os.path.exists(path):
            raise FileNotFoundError(f"{path}: no such file to resume")
        old = CyclesFile(path)
        name, params = problem_identity(problem)
        if name != old.problem or json.loads(params) != old.parameters:
            raise StorageError(f"{path} was written for problem {old.problem} {json.dumps(old.parameters)}, "
                               f"not {name} {params}")
        mine = {k: v for k, v in old.options.items() if k != "max_steps"}
        theirs = {k: v for k, v in options.to_dict().items() if k != "max_steps"}
        if json.loads(json.dumps(mine, default=jsonable)) != json.loads(json.dumps(theirs, default=jsonable)):
            diff = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            raise StorageError(f"{path} was written with other options (differ: {', '.join(diff)}); "
                               "only max_steps may change on resume")
        if old.status == "running" and _writer_alive(old.status, old.attrs):
            raise StorageError(f"{path} is being written by process {old.attrs.get('writer_pid')}; "
                               "wait for it or stop it first")
        if old.status != "running" and not Status[old.status].is_resumable:
            raise StorageError(f"{path}: the branch ended with status {old.status!r}; only running (killed), "
                               "interrupted and max_steps_reached branches can be resumed")
        if old.checkpoint is None:
            raise StorageError(f"{path}: no checkpoint (the run stopped before its first orbit); start it again")
        w = cls(path, problem, options)
        h5.remove_stale_tmp(path)
        with h5.replacing(path, "resume") as tmp:
            src = h5.open_read(path)
            try:
                f = h5.create(tmp)
                try:
                    h5.copy_tree(src, f, compress=False)
                    f.attrs.update(status="running", finished="", end_reason="", writer_pid=os.getpid(),
                                   writer_host=socket.gethostname(), resumed=int(old.attrs.get("resumed", 0)) + 1,
                                   options=options.to_json(), schema_version=SCHEMA_VERSIONS[CYCLES_FORMAT])
                    w._orbits, w._points = len(old.orbits["lam"]), len(old.points["json"])
                    h5.trim([f[f"orbits/{c}"] for c in _cycles_arrays()], w._orbits)
                    h5.trim([f[k] for k in ("points/json", "points/p", "points/mesh")], w._points)
                    f.swmr_mode = True
                    f.flush()
                except BaseException:
                    f.close()
                    raise
            finally:
                src.close()
            w._f = f  # the rename keeps the handle: it follows the file
        return w, old

    # ------------------------------------------------------------------ tracker hooks
    def on_start(self, tracker) -> None:
        """Lay the file out at the first orbit (in a new file replacing the header-only one), SWMR from there."""
        if self._f is not None:
            return
        n_nodes, n = np.asarray(tracker.rows["profile"][0]).shape
        hp = tracker.hopf

        def fill(f) -> None:
            self._f = f
            f.attrs.update(self._header)
            f.attrs.update(ntst=int(tracker.options.ntst), ncol=int(tracker.options.ncol),
                           hopf=json.dumps({"lam": hp.lam, "omega": hp.omega, "l1": hp.l1,
                                            "p": np.asarray(hp.p)}, default=jsonable))
            _cycles_layout(f, n, n_nodes, int(tracker.options.ntst), sorted(tracker.values))
            self.on_orbit(tracker)

        try:
            h5.swmr_version(self.path, fill)
        except BaseException:
            self._f = None
            raise

    def on_orbit(self, tracker) -> None:
        """Append the orbits and special points not yet written, then the checkpoint; flush."""
        if self._f is None:
            return
        f = self._f
        ds = self._datasets()
        _append_orbits(ds, tracker.rows, self._orbits, len(tracker.rows["lam"]))
        _append_points(ds, tracker.special_points, tracker.point_meshes, self._points)
        self._orbits, self._points = len(tracker.rows["lam"]), len(tracker.special_points)
        f.flush()  # the rows reach the file before a checkpoint that counts them
        state = tracker.checkpoint()
        state.update(n_orbits=self._orbits, n_points=self._points)
        for name in ("y", "tangent", "mesh"):
            ds[f"checkpoint/{name}"][...] = state[name]
        if self._value_names:
            ds["checkpoint/values"][...] = [state["values"].get(k, np.nan) for k in self._value_names]
        ds["checkpoint/scalars"][...] = [state[k] for k in CYCLES_CHECKPOINT_SCALARS]
        f.flush()

    def _datasets(self) -> Dict[str, Any]:
        """The file's datasets by path, looked up once (an h5py lookup costs more than a row's write)."""
        if self._ds is None:
            items: Dict[str, Any] = {}
            self._f.visititems(lambda name, obj: items.__setitem__(name, obj) if hasattr(obj, "shape") else None)
            self._ds = items
            self._value_names = json.loads(items["checkpoint/values"].attrs["names"]) if "checkpoint/values" in items \
                else []
        return self._ds

    def on_finish(self, tracker, wall_time: float) -> None:
        """Write the final status, ``end_reason`` and special points into a compressed copy (idempotent)."""
        if self.closed:
            return
        if self._f is not None:
            self.on_orbit(tracker)
        self.close()
        special = json.dumps([sp.to_dict() for sp in tracker.special_points], default=jsonable)
        counters = json.dumps({"n_H_evals": int(tracker.rhs.n_evals)}, sort_keys=True)

        def edit(f) -> None:
            if "orbits" in f:  # cut rows half-written when an interrupt hit a write
                h5.trim([f[f"orbits/{c}"] for c in _cycles_arrays()], self._orbits)
                h5.trim([f[k] for k in ("points/json", "points/p", "points/mesh")], self._points)
            f.attrs.update(end_reason=tracker.end_reason, special_points=special, n_accepted=tracker.n_accepted,
                           n_rejected=tracker.n_rejected, n_steps=tracker.n_steps)
            finish_header(f.attrs, tracker.status.name, tracker.status.message, wall_time, counters)

        h5.rewrite(self.path, edit)

    def close(self) -> None:
        """Close without a final status (the file stays ``running``, resumable)."""
        self._f = _flush_close(self._f)
        self.closed = True


def _cycles_header(name: str, params: str, options: str, ntst: int, ncol: int) -> Dict[str, Any]:
    """Root attributes of a new cycles file (``params``, ``options``: JSON), status ``running``."""
    header: Dict[str, Any] = {}
    write_header(header, CYCLES_FORMAT)
    header.update(problem=name, parameters=params, options=options, end_reason="", hopf="{}",
                  special_points="[]", ntst=int(ntst), ncol=int(ncol), wall_time=0.0,
                  counters="{}", writer_pid=os.getpid(), writer_host=socket.gethostname(), resumed=0)
    return header


def _cycles_arrays() -> Tuple[str, ...]:
    return CYCLES_COLUMNS + ("multipliers_re", "multipliers_im", "mesh", "profile")


def _cycles_layout(f, n: int, n_nodes: int, ntst: int, value_names: Optional[List[str]]) -> None:
    """The ``/orbits`` and ``/points`` columns, and ``/checkpoint`` unless ``value_names`` is None."""
    og = f.create_group("orbits")
    for c in CYCLES_COLUMNS:
        h5.column(og, c, "i8" if c in CYCLES_INT_COLUMNS else "f8")
    for c in ("multipliers_re", "multipliers_im"):
        h5.column(og, c, "f8", n)
    h5.column(og, "mesh", "f8", ntst + 1)
    h5.column(og, "profile", "f8", (n_nodes, n))
    pg = f.create_group("points")
    h5.column(pg, "json", h5.str_dtype(POINT_JSON_LEN))
    h5.column(pg, "p", "f8", n_nodes * n + 1)
    h5.column(pg, "mesh", "f8", ntst + 1)
    if value_names is None:
        return
    cp = f.create_group("checkpoint")
    size = n_nodes * n + 2
    for name in ("y", "tangent"):
        h5.fixed(cp, name, np.zeros(size))
    h5.fixed(cp, "mesh", np.zeros(ntst + 1))
    h5.fixed(cp, "values", np.zeros(len(value_names))).attrs["names"] = json.dumps(list(value_names))
    h5.fixed(cp, "scalars", np.zeros(len(CYCLES_CHECKPOINT_SCALARS)))


def _append_orbits(ds, rows: Mapping[str, Any], start: int, stop: int) -> None:
    """Rows ``start:stop`` of per-orbit sequences (a tracker's ``rows`` or a result's arrays).

    ``ds``: the file, or its datasets by path.
    """
    if stop <= start:
        return
    for c in CYCLES_COLUMNS:
        h5.append(ds[f"orbits/{c}"], np.asarray(rows[c][start:stop]))
    mu = np.asarray(rows["multipliers"][start:stop], dtype=complex)
    h5.append(ds["orbits/multipliers_re"], mu.real)
    h5.append(ds["orbits/multipliers_im"], mu.imag)
    h5.append(ds["orbits/mesh"], np.asarray(rows["mesh"][start:stop], dtype=float))
    h5.append(ds["orbits/profile"], np.asarray(rows["profile"][start:stop], dtype=float))


def _append_points(ds, points, meshes, start: int) -> None:
    """Special points ``start:`` and their meshes (``ds``: the file, or its datasets by path)."""
    for sp, mesh in zip(points[start:], meshes[start:]):
        text = json.dumps(sp.to_dict(), default=jsonable)
        if len(text.encode()) > POINT_JSON_LEN:
            raise StorageError(f"special point {sp.kind!r} does not fit a /points/json row ({POINT_JSON_LEN} bytes)")
        h5.append(ds["points/json"], [text.encode()])
        h5.append(ds["points/p"], np.asarray(sp.p, dtype=float)[None, :])
        h5.append(ds["points/mesh"], np.asarray(mesh, dtype=float)[None, :])


def write_cycles(path: str, result, *, force: bool = False) -> None:
    """Write a finished cycle branch (a :class:`pathtrack.periodic.CycleResult`; format ``pathtrack-cycles``).

    The layout of a :class:`CycleWriter` file without ``/checkpoint`` (a result is not resumed).
    """
    r = result
    path = str(path)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
    h5.remove_stale_tmp(path)
    hopf = r.hopf
    with h5.replacing(path, "write", force=force) as tmp, h5.create(tmp) as f:
        f.attrs.update(_cycles_header(r.problem, json.dumps(dict(r.parameters), sort_keys=True, default=jsonable),
                                      json.dumps(dict(r.options), sort_keys=True, default=jsonable), r.ntst, r.ncol))
        f.attrs.update(end_reason=r.end_reason, special_points=json.dumps([sp.to_dict() for sp in r.special_points], default=jsonable),
                       hopf=json.dumps({} if hopf is None else {"lam": hopf.lam, "omega": hopf.omega, "l1": hopf.l1,
                                                                "p": np.asarray(hopf.p)}, default=jsonable),
                       n_accepted=r.n_accepted, n_rejected=r.n_rejected, n_steps=r.n_steps)
        k, n_nodes, n = r.profile.shape
        _cycles_layout(f, n, n_nodes, int(r.ntst), None)
        _append_orbits(f, {c: getattr(r, c) for c in CYCLES_COLUMNS + ("multipliers", "mesh", "profile")}, 0, k)
        _append_points(f, r.special_points, r.point_meshes, 0)
        finish_header(f.attrs, r.status.name, r.message, r.total_time,
                      json.dumps(dict(r.counters), sort_keys=True, default=jsonable))
