"""Automatic bifurcation diagrams: every branch point spawns its branches, up to a depth.

:func:`diagram` tracks the problem's path from its start, analyses every branch point
(and every Hessian-index change of a gradient homotopy) located on it with
:mod:`pathtrack.branching`, and tracks each new branch in both directions with the same
:func:`~pathtrack.track`, breadth first, until the switching depth is reached. The λ-box
of the first path bounds every branch. A branch that reaches a branch point already on
the diagram ends there (status ``event_terminated``), and a direction out of a branch
point that some branch already covers (the parent, a branch that arrived there, or one
that left there) is not tracked again.

With ``out`` the diagram is written to one HDF5 file (:class:`~pathtrack.io.DiagramWriter`):
each finished branch appended to tables shared by all branches (read back as path files), the
tree in ``/tree``, and the queue of branches still to track, so a killed run loses at most the
branch in progress and ``resume=`` finishes it.

With ``cycles`` the branch of periodic orbits born at every Hopf point of the diagram is
continued (:func:`~pathtrack.periodic.continue_cycles`) in the diagram's λ-box once the
equilibrium branches are done, and stored as ``/cycles/NNNN`` with the branch and event of its
Hopf point; ``resume=`` continues the Hopf points that have no stored cycle branch yet.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

from .branching import (SWITCH_KINDS, BranchSwitchError, analyse_branch_point, branch_start, child_options,
                        parent_tangent_at)
from .events import SpecialPoint
from .options import OptionsError, TrackerOptions
from .problem import Problem, RealSystem, normalize_starts
from .results import Result
from .status import Status

__all__ = ["Branch", "CycleBranch", "DiagramResult", "diagram", "check_depth"]

#: Two located branch points are the same point when closer than this, relative to ``1 + ‖y‖``.
SAME_POINT_RTOL = 1e-6


@dataclass(frozen=True)
class Branch:
    """One branch of a diagram.

    Attributes
    ----------
    id : int
        Its row in the diagram (0 is the path from the problem's start).
    parent : int
        The branch it was switched from (-1 for branch 0).
    origin_event : int
        The row of the parent's ``special_points`` it leaves from (-1 for branch 0).
    depth : int
        Number of switches from branch 0.
    result : PathResult
    """

    id: int
    parent: int
    origin_event: int
    depth: int
    result: Any


@dataclass(frozen=True)
class CycleBranch:
    """A branch of periodic orbits of a diagram, continued from a Hopf point of one of its branches.

    Attributes
    ----------
    id : int
        Its number (its group ``/cycles/NNNN`` in the diagram file).
    branch : int
        The equilibrium branch the Hopf point lies on.
    event : int
        The row of that branch's ``special_points`` of the Hopf point.
    result : CycleResult
    """

    id: int
    branch: int
    event: int
    result: Any


@dataclass(frozen=True)
class DiagramResult(Result):
    """A bifurcation diagram (a :class:`~pathtrack.results.Result`).

    Attributes
    ----------
    problem : str
    depth : int
        The switching depth asked for.
    branches : list of Branch
        The branches tracked in this session (a resumed diagram's earlier ones are in its file).
    unswitched : list of dict
        Special points of the switched kinds that were not switched, with ``reason`` (the
        :class:`~pathtrack.branching.BranchSwitchError` message, which gives the kernel dimension).
    n_branches : int
        Branches on the diagram, earlier sessions included.
    out : str or None
        The file written.
    cycles : list of CycleBranch
        The cycle branches continued in this session (``cycles=``).
    cycle_options : TrackerOptions or None
        Their options (the diagram's λ-box included); None when no cycle branch is asked for.
    """

    problem: str = ""
    depth: int = 1
    branches: List[Branch] = field(default_factory=list)
    unswitched: List[Dict[str, Any]] = field(default_factory=list)
    n_branches: int = 0
    out: Optional[str] = None
    cycles: List[CycleBranch] = field(default_factory=list)
    cycle_options: Optional[TrackerOptions] = None

    def children(self, branch: int) -> List[Branch]:
        return [b for b in self.branches if b.parent == branch]

    def summary(self) -> Dict[str, Any]:
        return {"problem": self.problem, "status": self.status.name, "message": self.message, "depth": self.depth,
                "n_branches": self.n_branches, "wall_time": self.total_time, "out": self.out,
                "branches": [{"branch": b.id, "parent": b.parent, "origin_event": b.origin_event, "depth": b.depth,
                              "status": b.result.status.name, "end_reason": b.result.end_reason,
                              "n_accepted": b.result.n_accepted, "lam_start": float(b.result.lam[0]),
                              "lam_end": b.result.lam_end,
                              "events": [sp.to_dict() for sp in b.result.special_points]} for b in self.branches],
                "unswitched": list(self.unswitched),
                "cycles": [{"cycle": c.id, "branch": c.branch, "event": c.event, "status": c.result.status.name,
                            "end_reason": c.result.end_reason, "hopf_lam": c.result.hopf.lam,
                            "n_orbits": len(c.result.lam),
                            "lam_end": float(c.result.lam[-1]) if len(c.result.lam) else None,
                            "events": [{"kind": sp.kind, "lam": sp.lam} for sp in c.result.special_points]}
                           for c in self.cycles], **self.counters}


def check_depth(depth) -> int:
    """``depth`` as a positive int; anything else raises :class:`OptionsError` naming it."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or int(depth) < 1:
        raise OptionsError(f"depth must be a positive integer (the number of branch switches), got {depth!r}")
    return int(depth)


class _Explorer:
    """The diagram's bookkeeping, all of it JSON (it is stored in the file for ``resume``).

    ``known``: the branch points met, each with its real point ``y``, the tangents of its
    branches (None until analysed) and ``covered``, the directions out of it some branch
    already follows. ``pending``: the branches still to track, breadth first.
    """

    def __init__(self, state: Dict[str, Any]):
        self.pending: List[Dict[str, Any]] = list(state.get("pending", []))
        self.known: List[Dict[str, Any]] = list(state.get("known", []))
        self.unswitched: List[Dict[str, Any]] = list(state.get("unswitched", []))
        self.next_branch = int(state.get("next_branch", 0))
        self.lam_start = state.get("lam_start")
        self.n_children: Dict[str, int] = dict(state.get("n_children", {}))

    def state(self) -> Dict[str, Any]:
        return {"pending": self.pending, "known": self.known, "unswitched": self.unswitched,
                "next_branch": self.next_branch, "lam_start": self.lam_start, "n_children": self.n_children}

    def match(self, y: np.ndarray) -> Optional[int]:
        for k, pt in enumerate(self.known):
            yk = np.asarray(pt["y"])
            if yk.shape == y.shape and np.linalg.norm(y - yk) <= SAME_POINT_RTOL * (1.0 + np.linalg.norm(yk)):
                return k
        return None

    def covered(self, k: int, i: int, sign: int) -> bool:
        """Whether direction ``sign · tangents[i]`` out of point ``k`` is already followed by a branch."""
        tangents = [np.asarray(t) for t in self.known[k]["tangents"]]
        for c in self.known[k]["covered"]:
            c = np.asarray(c)
            dots = [float(c @ t) for t in tangents]
            j = int(np.argmax(np.abs(dots)))
            if j == i and np.sign(dots[j]) == sign:
                return True
        return False


def _y_of(system: RealSystem, sp: SpecialPoint) -> np.ndarray:
    return system.to_y(np.asarray(sp.p), float(sp.lam))


def diagram(problem: Problem, depth: int = 1, *, options=None, out: Optional[str] = None, force: bool = False,
            resume: Optional[str] = None, max_branches: int = 100, cycles=False) -> DiagramResult:
    """Explore the bifurcation diagram of ``problem`` from its start point.

    Parameters
    ----------
    problem : Problem
    depth : int
        How many switches deep to go (positive): 1 switches at the branch points of the first path only.
    options : TrackerOptions or mapping, optional
        For the first path (default: the problem's); the switched branches use them with
        pseudo-arclength and Newton (:func:`~pathtrack.branching.child_options`), in the first path's λ-box.
    out : str, optional
        HDF5 file to write (format ``pathtrack-diagram``).
    force : bool
        Overwrite ``out``.
    resume : str, optional
        A diagram file to finish (written by a run that was killed or interrupted).
    max_branches : int
        Stop (status ``max_steps_reached``) after this many branches.
    cycles : bool, TrackerOptions or mapping
        Continue the cycle branch of every Hopf point (an ODE problem only): True with the
        problem's options, or these options (``ntst``, ``ncol``, ``max_steps`` ...), as
        :func:`~pathtrack.periodic.continue_cycles` takes them; their λ-box is cut to the
        diagram's. A resumed diagram uses the options stored in its file.

    Returns
    -------
    DiagramResult
    """
    from .driver import track

    depth = check_depth(depth)
    t0 = time.perf_counter()
    writer = None
    if resume is not None:
        from .io import DiagramWriter, StorageError, load
        from .io.schema import problem_identity

        with load(resume) as f:
            if not hasattr(f, "tree"):
                raise StorageError(f"{resume}: not a pathtrack diagram file")
            name, params = problem_identity(problem)
            if name != f.problem or json.loads(params) != f.parameters:
                raise StorageError(f"{resume} was written for problem {f.problem} {json.dumps(f.parameters)}, "
                                   f"not {name} {params}")
            if f.status == "success":
                raise StorageError(f"{resume}: the diagram is complete and has nothing left to do")
            if f.status == "running" and f.writer_alive():
                raise StorageError(f"{resume} is being written by process {f.attrs['writer_pid']}; "
                                   "wait for it or stop it first")
            base = f.options
            depth = f.depth
            ex = _Explorer(f.explorer)
            cycle_options = f.cycle_options
        writer = DiagramWriter.reopen(resume)
        out = resume
    else:
        base = TrackerOptions.resolve(options, problem.default_options)
        ex = _Explorer({"pending": [{"parent": -1, "origin_event": -1, "point": -1, "depth": 0}]})
        cycle_options = _cycle_options(problem, base, cycles)
        if out is not None:
            from .io import DiagramWriter
            writer = DiagramWriter.create(out, problem, base, depth, ex.state(), force=force,
                                          cycle_options=cycle_options)
    n = normalize_starts(problem)[0].p.shape[0]
    system = RealSystem(problem, n)
    branches: List[Branch] = []
    status, message = Status.success, ""
    counters: Dict[str, int] = {}

    def stop_at(sp: SpecialPoint) -> bool:  # a branch reaching a point already on the diagram ends there
        return sp.kind in SWITCH_KINDS and ex.match(_y_of(system, sp)) is not None

    while ex.pending:
        if ex.next_branch >= max_branches:
            status, message = Status.max_steps_reached, f"max_branches = {max_branches} reached"
            break
        seed = ex.pending[0]
        kw: Dict[str, Any] = {}
        if seed["point"] < 0:
            opts, p0, lam0 = base, None, None
        else:
            k, i, sign = seed["point"], seed["tangent"], seed["sign"]
            if ex.covered(k, i, sign):
                ex.pending.pop(0)
                continue
            t = sign * np.asarray(ex.known[k]["tangents"][i])
            opts = child_options(problem, base, ex.lam_start)
            try:
                start = branch_start(problem, np.asarray(ex.known[k]["y"]), n, t, 0.1 * opts.initial_ds, opts)
            except BranchSwitchError as exc:
                ex.unswitched.append({"branch": seed["parent"], "event": seed["origin_event"],
                                      "lam": float(ex.known[k]["y"][-1]), "reason": str(exc)})
                ex.pending.pop(0)
                continue
            p0, lam0, kw["orient_like"] = start.p, start.lam, t
        observers = []
        if writer is not None:
            from .io import PathWriter
            observers.append(PathWriter.create(writer.branch_path(), problem, opts, force=True))
        result = track(problem, p0, lam0, options=opts, observers=observers, stop_at=stop_at, **kw)
        if result.status is Status.interrupted:
            status, message = Status.interrupted, "interrupted; resume to finish the diagram"
            if writer is not None and os.path.exists(writer.branch_path()):
                os.unlink(writer.branch_path())
            break
        ex.pending.pop(0)
        bid = ex.next_branch
        ex.next_branch += 1
        if seed["point"] < 0:
            ex.lam_start = result.lam_start if result.lam_start is not None else float(result.lam[0])
        else:
            ex.known[seed["point"]]["covered"].append(t.tolist())
            key = str(seed["parent"])
            ex.n_children[key] = ex.n_children.get(key, 0) + 1
        _register(problem, ex, result, bid, seed["depth"], depth, system)
        for name, v in result.counters.items():
            counters[name] = counters.get(name, 0) + int(v)
        branches.append(Branch(bid, seed["parent"], seed["origin_event"], seed["depth"], result))
        if writer is not None:
            writer.add_branch(bid, {"branch": bid, "parent": seed["parent"], "origin_event": seed["origin_event"],
                                    "depth": seed["depth"]}, ex.state(),
                              n_children={int(b): c for b, c in ex.n_children.items()})
    cycle_branches: List[CycleBranch] = []
    n_cycles = 0
    if status is Status.success and cycle_options is not None:
        if writer is not None:
            writer.close()  # the cycle branches are added by atomic rewrites, which need it closed
        cycle_options = _in_box(problem, cycle_options, base, ex.lam_start)
        status, message, n_cycles = _continue_cycles(problem, branches, ex, cycle_options, out, cycle_branches)
    failed = [b for b in branches if b.result.status.is_failure]
    failed += [c for c in cycle_branches if c.result.status.is_failure]
    if status is Status.success:
        message = f"{ex.next_branch} branches"
        if cycle_options is not None:
            message += f", {n_cycles} cycle branch(es)"
        if failed:
            message += "; failed: " + ", ".join(f"{'cycle branch' if isinstance(b, CycleBranch) else 'branch'} "
                                                f"{b.id} {b.result.status.name}" for b in failed)
        if ex.unswitched:
            message += f"; {len(ex.unswitched)} point(s) not switched"
    total = time.perf_counter() - t0
    if writer is not None:
        writer.finish(status, message, total, counters, ex.state())
    return DiagramResult(status=status, message=message, counters=counters, total_time=total,
                         problem=getattr(problem, "name", type(problem).__name__), depth=depth, branches=branches,
                         unswitched=list(ex.unswitched), n_branches=ex.next_branch, out=out, cycles=cycle_branches,
                         cycle_options=cycle_options)


def _cycle_options(problem: Problem, base: TrackerOptions, cycles) -> Optional[TrackerOptions]:
    """The options of the cycle branches asked for by ``cycles`` (None: none), as continue_cycles resolves them."""
    if cycles is False or cycles is None:
        return None
    if not getattr(problem, "is_ode_rhs", False):
        raise OptionsError(f"cycles: problem {getattr(problem, 'name', type(problem).__name__)} is not an ODE "
                           "right-hand side (is_ode_rhs), it has no periodic orbits to continue")
    defaults = {k: v for k, v in problem.default_options.items() if k != "parameterisation"}
    return TrackerOptions.resolve(None if cycles is True else cycles, defaults)


def _in_box(problem: Problem, o: TrackerOptions, base: TrackerOptions, lam_start: Optional[float]) -> TrackerOptions:
    """``o`` with its λ-box cut to the diagram's (the first path's box, which every branch keeps to)."""
    if lam_start is None:
        return o
    box = child_options(problem, base, lam_start)
    lo = box.lam_min if o.lam_min is None else max(o.lam_min, box.lam_min)
    hi = box.lam_max if o.lam_max is None else min(o.lam_max, box.lam_max)
    return o.replace(lam_min=lo, lam_max=hi)


def _hopf_points(branches: List[Branch], out: Optional[str]):
    """``(branch, event, p, lam)`` of every Hopf point on the diagram, and ``(branch, event)`` of those with
    a stored cycle branch: from the file when there is one (earlier sessions included), else from ``branches``."""
    from .events import HOPF

    if out is None:
        return [(b.id, e, np.asarray(sp.p), float(sp.lam)) for b in branches
                for e, sp in enumerate(b.result.special_points) if sp.kind == HOPF], set()
    from .io import DiagramFile

    with DiagramFile(out) as f:
        points = [(int(b), e, np.asarray(pf.event_p(e)), float(ev["lam"]))
                  for b, pf in zip(f.tree["branch"], f.branches) for e, ev in enumerate(pf.events)
                  if ev["kind"] == HOPF]
        done = {(c["parent_branch"], c["parent_event"]) for c in f.cycle_info}
    return points, done


def _continue_cycles(problem: Problem, branches: List[Branch], ex: _Explorer,
                     options: TrackerOptions, out: Optional[str], found: List[CycleBranch]):
    """Continue the cycle branch of every Hopf point without one, each stored as it ends (appended to ``found``);
    ``(status, message, number of cycle branches on the diagram)``.

    A Hopf point located on two branches gets one cycle branch. A Hopf point whose orbits cannot be
    started (no simple pair of imaginary eigenvalues there) is listed in ``ex.unswitched``.
    """
    from .io import DiagramWriter, h5
    from .periodic import continue_cycles
    from .problem import ProblemError

    points, done = _hopf_points(branches, out)
    seen: List[np.ndarray] = []
    failed = {(u["branch"], u["event"]) for u in ex.unswitched if u.get("kind") == "hopf"}
    for bid, e, p, lam in points:
        y = np.append(p, lam)
        if any(np.linalg.norm(y - z) <= SAME_POINT_RTOL * (1.0 + np.linalg.norm(z)) for z in seen):
            continue
        seen.append(y)
        if (bid, e) in done or (bid, e) in failed:
            continue
        tmp = None if out is None else h5.tmp_path(out, "cycle")
        try:
            result = continue_cycles(problem, (p, lam), options=options, out=tmp, force=True)
        except ProblemError as exc:
            ex.unswitched.append({"branch": bid, "event": e, "kind": "hopf", "lam": lam,
                                  "reason": f"no cycle branch: {exc}"})
            continue
        if result.status is Status.interrupted:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            return Status.interrupted, "interrupted; resume to finish the diagram", len(done) + len(found)
        number = len(done) + len(found)
        if tmp is not None:
            number = DiagramWriter.add_cycles(out, tmp, bid, e)
            os.unlink(tmp)
        found.append(CycleBranch(number, bid, e, result))
    return Status.success, "", len(done) + len(found)


def _register(problem: Problem, ex: _Explorer, result, bid: int, branch_depth: int, max_depth: int,
              system: RealSystem) -> None:
    """Record the branch points located on a finished branch; queue the new branches of the new ones."""
    events = result.special_points
    last = len(events) - 1
    for e, sp in enumerate(events):
        if sp.kind not in SWITCH_KINDS:
            continue
        y = _y_of(system, sp)
        tp = parent_tangent_at(result, sp)
        tp = np.zeros_like(y) if tp is None else tp
        arrived = result.status is Status.event_terminated and e == last  # the branch ended here
        k = ex.match(y)
        if k is not None:
            ex.known[k]["covered"].extend([(-tp).tolist()] if arrived else [tp.tolist(), (-tp).tolist()])
            continue
        ex.known.append({"y": y.tolist(), "kind": sp.kind, "branch": bid, "event": e, "tangents": None,
                         "covered": [tp.tolist(), (-tp).tolist()]})
        if branch_depth >= max_depth:
            continue
        try:
            a = analyse_branch_point(problem, sp, parent_tangent=tp)
        except BranchSwitchError as exc:
            ex.unswitched.append({"branch": bid, "event": e, "kind": sp.kind, "lam": float(sp.lam),
                                  "reason": str(exc)})
            continue
        k = len(ex.known) - 1
        ex.known[k]["tangents"] = [t.tolist() for t in a.tangents]
        for i in range(len(a.tangents)):
            if i == a.parent:
                continue
            for sign in (1, -1):
                ex.pending.append({"parent": bid, "origin_event": e, "point": k, "tangent": i, "sign": sign,
                                   "depth": branch_depth + 1})
