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
from .schema import (CHECKPOINT_SCALARS, CYCLES_COLUMNS, CYCLES_FORMAT, DIAGRAM_FORMAT, EVENT_COLUMNS, KIND_LEN,
                     PATH_FORMAT, REJECTED_COLUMNS, TREE_COLUMNS, branch_group,
                     SCHEMA_VERSIONS, STEP_COLUMNS, TRAIN_FORMAT, StorageError, finish_header, jsonable, now, one_line,
                     problem_identity, reason_names_attr, write_header)

if TYPE_CHECKING:  # the reader imports this module's names; only annotations need it here
    from .reader import PathFile

__all__ = ["PathWriter", "DiagramWriter", "write_result", "write_train"]


def _diagnostics_json(diagnostics_off) -> str:
    """The ``diagnostics_off`` root attribute: JSON ``{test or column: why}``."""
    return json.dumps({str(k): str(v) for k, v in dict(diagnostics_off or {}).items()}, sort_keys=True)


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
            h5.column(steps, name, dt)
        mg = steps.create_group("metrics")
        mg.attrs["names"] = json.dumps(list(metric_names))
        for name in metric_names:
            h5.column(mg, name, "f8")
        self._metric_names = list(metric_names)
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
                h5.trim([f["events"][c] for c in (*EVENT_COLUMNS, "kind", "p")],
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
        if self._f is not None:
            self._f.flush()
            self._f.close()
            self._f = None
        self.closed = True




# ------------------------------------------------------------------------------ diagram files
class DiagramWriter:
    """Writes a bifurcation diagram to one HDF5 file, one finished branch at a time.

    Each branch is tracked into a temporary path file by a :class:`PathWriter` (so it has
    exactly a path file's layout) and, when it ends, copied under ``/branches/NNNN`` of a
    new version of the diagram file that atomically replaces the old one, together with its
    ``/tree`` row and the explorer's state (the branches still to track). A kill at any
    moment leaves the last complete version: at most the branch in progress is lost, and
    ``--resume`` continues from the stored queue.
    """

    def __init__(self, path: str):
        self.path = str(path)

    @classmethod
    def create(cls, path: str, problem, options: TrackerOptions, depth: int, explorer: Dict[str, Any],
               force: bool = False) -> "DiagramWriter":
        """Start a new diagram file holding no branch; refuse to overwrite one unless ``force``."""
        path = str(path)
        if os.path.exists(path) and not force:
            raise FileExistsError(f"{path} exists; pass force=True (--force) to overwrite it")
        h5.remove_stale_tmp(path)
        name, params = problem_identity(problem)
        with h5.replacing(path, "create", force=force) as tmp, h5.create(tmp) as f:
            write_header(f.attrs, DIAGRAM_FORMAT)
            f.attrs.update(problem=name, parameters=params, options=options.to_json(), depth=int(depth),
                           explorer=json.dumps(explorer, default=jsonable), writer_pid=os.getpid(),
                           writer_host=socket.gethostname())
            tree = f.create_group("tree")
            for c, dt in TREE_COLUMNS.items():
                h5.column(tree, c, dt)
            f.create_group("branches")
        return cls(path)

    @classmethod
    def reopen(cls, path: str) -> "DiagramWriter":
        """Continue writing a diagram file (its stale temporary files are removed)."""
        h5.remove_stale_tmp(str(path))

        def mark(f) -> None:
            f.attrs["status"] = "running"
            f.attrs["finished"] = ""
            f.attrs["writer_pid"] = os.getpid()
            f.attrs["writer_host"] = socket.gethostname()

        h5.rewrite(str(path), mark)
        return cls(path)

    def branch_path(self) -> str:
        """The temporary path file the branch in progress is written to."""
        return h5.tmp_path(self.path, "branch")

    def add_branch(self, branch: int, tree_row: Dict[str, int], explorer: Dict[str, Any],
                   n_children: Optional[Dict[int, int]] = None) -> None:
        """Copy the finished branch file into the diagram, with its tree row and the explorer's state.

        ``n_children`` updates the ``n_children`` column of earlier branches ``{branch: count}``.
        """
        src = self.branch_path()

        def edit(f) -> None:
            with h5.h5py().File(src, "r") as b:
                h5.copy_tree(b, f.create_group(branch_group(branch)), compress=True)
            tree = f["tree"]
            for c in TREE_COLUMNS:
                h5.append(tree[c], [int(tree_row.get(c, 0))])
            if n_children:
                ids = tree["branch"][...]
                counts = tree["n_children"][...]
                for b_id, n in n_children.items():
                    counts[ids == b_id] = n
                tree["n_children"][...] = counts
            f.attrs["explorer"] = json.dumps(explorer, default=jsonable)

        h5.rewrite(self.path, edit)
        os.unlink(src)

    def finish(self, status: Status, message: str, wall_time: float, counters: Mapping[str, int],
               explorer: Dict[str, Any]) -> None:
        """Write the final status (the explorer keeps what an interrupted diagram has left to do)."""
        def edit(f) -> None:
            f.attrs["explorer"] = json.dumps(explorer, default=jsonable)
            finish_header(f.attrs, status.name, message, wall_time, json.dumps(dict(counters), sort_keys=True))

        h5.rewrite(self.path, edit)


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


def write_cycles(path: str, result, *, force: bool = False) -> None:
    """Write a cycle branch (a :class:`pathtrack.periodic.CycleResult`; format ``pathtrack-cycles``).

    Written whole when the branch ends, like solve and training files: a branch that failed
    midway is stored with its status and every orbit it reached.
    """
    r = result
    hopf = r.hopf
    attrs = {"problem": r.problem, "parameters": dict(r.parameters), "options": dict(r.options),
             "end_reason": r.end_reason, "ntst": int(r.ntst), "ncol": int(r.ncol),
             "hopf": {} if hopf is None else {"lam": hopf.lam, "omega": hopf.omega, "l1": hopf.l1,
                                              "p": np.asarray(hopf.p)},
             "special_points": [sp.to_dict() for sp in r.special_points]}
    datasets = {f"orbits/{c}": np.asarray(getattr(r, c)) for c in CYCLES_COLUMNS}
    datasets.update({"orbits/multipliers_re": r.multipliers.real, "orbits/multipliers_im": r.multipliers.imag,
                     "orbits/mesh": r.mesh, "orbits/profile": r.profile})
    write_result(path, CYCLES_FORMAT, attrs=attrs, datasets=datasets, status=r.status, message=r.message,
                 wall_time=r.total_time, counters=r.counters, force=force)
