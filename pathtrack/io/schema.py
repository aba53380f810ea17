"""What pathtrack's HDF5 files hold: format names, schema versions, columns and the one header.

Every file pathtrack writes (a tracked path, a polynomial solve, a training run) starts
with the same root attributes, :data:`HEADER_ATTRS`, and adds :data:`HEADER_FINISH_ATTRS`
when the computation ends. The ``format`` attribute says which kind of file it is and
``schema_version`` which layout of that kind; readers refuse versions newer than
:data:`SCHEMA_VERSIONS` lists and read the older layouts of :data:`LEGACY_FORMATS`.

Files are written with the HDF5 library-version bounds :data:`LIBVER` (the 1.10 file
format: the lowest that supports SWMR), so HDF5 1.10-1.14 tools (``h5dump``, HDFView,
MATLAB) open them.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Dict, Tuple

import numpy as np

__all__ = ["StorageError", "LIBVER", "PATH_FORMAT", "SOLVE_FORMAT", "TRAIN_FORMAT", "DIAGRAM_FORMAT", "CYCLES_FORMAT",
           "SCHEMA_VERSIONS", "LEGACY_FORMATS", "KIND_OF_FORMAT", "HEADER_ATTRS", "HEADER_FINISH_ATTRS", "STEP_COLUMNS",
           "DIAGRAM_ATTRS", "TREE_COLUMNS", "TREE_END_COLUMNS", "TABLE_CHECKPOINT_ARRAYS", "branch_group", "CURVE_ATTRS", "curve_group", "CYCLE_BRANCH_ATTRS",
           "cycle_group", "DIAGRAM_CYCLES_SINCE", "PARAMETER_FORMAT", "PARAMETER_ATTRS", "PARAMETER_DATASETS",
           "REJECTED_COLUMNS", "EVENT_COLUMNS", "EVENT_EXTRA_LEN", "event_datasets", "CHECKPOINT_SCALARS", "PATH_ATTRS", "PATH_FINISH_ATTRS",
           "KIND_LEN", "reason_names_attr", "write_header", "finish_header", "now", "problem_identity"]


class StorageError(Exception):
    """A pathtrack HDF5 file is malformed, corrupt, truncated or does not match the run."""


#: ``libver`` bounds of every file pathtrack writes: the HDF5 1.10 format, the lowest with SWMR.
LIBVER = ("v110", "v110")

PATH_FORMAT = "pathtrack-path"
SOLVE_FORMAT = "pathtrack-solve"
TRAIN_FORMAT = "pathtrack-train"
DIAGRAM_FORMAT = "pathtrack-diagram"
CYCLES_FORMAT = "pathtrack-cycles"
PARAMETER_FORMAT = "pathtrack-parameters"

#: The newest schema version of each format (the one this pathtrack writes).
#: Path schema 4 adds ``/events/extra`` (the normal-form coefficients of each point, JSON); diagram
#: schema 2 stores the branches in shared tables appended in SWMR mode (see :data:`TREE_END_COLUMNS`)
#: and adds ``/curves`` (fold and Hopf curves continued from its points).
#: Path schema 3 adds the root attribute ``diagnostics_off``; 2 stores ``/rejected/reason`` as
#: RejectReason codes (1 stored their names as strings). Cycles schema 2 is written orbit by orbit
#: (SWMR) and adds ``/points`` and ``/checkpoint``.
SCHEMA_VERSIONS: Dict[str, int] = {PATH_FORMAT: 4, SOLVE_FORMAT: 2, TRAIN_FORMAT: 2, DIAGRAM_FORMAT: 3,
                                    CYCLES_FORMAT: 2, PARAMETER_FORMAT: 1}

#: ``format`` attributes of layouts written before the common header, as ``(format, schema_version)``.
LEGACY_FORMATS: Dict[str, Tuple[str, int]] = {"pathtrack.solve/1": (SOLVE_FORMAT, 1),
                                              "pathtrack.nn.train": (TRAIN_FORMAT, 1)}

#: What ``pathtrack inspect`` calls each kind of file.
KIND_OF_FORMAT = {PATH_FORMAT: "tracked path", SOLVE_FORMAT: "polynomial solve", TRAIN_FORMAT: "training run",
                  DIAGRAM_FORMAT: "bifurcation diagram", CYCLES_FORMAT: "cycle branch",
                  PARAMETER_FORMAT: "parameter homotopy"}

# ---------------------------------------------------------------------------------------- header
#: Root attributes of every file: ``format``, ``schema_version`` and ``pathtrack_version`` say what
#: wrote it; ``created``/``finished`` are ISO-8601 UTC times (``finished`` is ``""`` until the end);
#: ``status`` is a :class:`pathtrack.Status` name (``"running"`` while written) with its ``message``.
HEADER_ATTRS = ("format", "schema_version", "pathtrack_version", "created", "finished", "status", "message")
#: Root attributes written when the computation ends: total ``wall_time`` (s) and ``counters`` (JSON).
HEADER_FINISH_ATTRS = ("wall_time", "counters")


def one_line(exc: BaseException) -> str:
    """An exception as one line of at most 200 characters (for :class:`StorageError` messages)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "..."


def jsonable(o):
    """``json.dumps`` ``default`` for NumPy scalars and arrays."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def now() -> str:
    """The current UTC time as ISO-8601 text (the header's time stamps)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_header(attrs, fmt: str, *, status: str = "running", message: str = "") -> None:
    """Write the common root attributes of a new file of format ``fmt``."""
    from .._version import __version__

    attrs["format"] = fmt
    attrs["schema_version"] = SCHEMA_VERSIONS[fmt]
    attrs["pathtrack_version"] = __version__
    attrs["created"] = now()
    attrs["finished"] = ""
    attrs["status"] = status
    attrs["message"] = message


def finish_header(attrs, status: str, message: str, wall_time: float, counters_json: str) -> None:
    """Write the attributes of a finished computation (``counters_json``: a JSON object)."""
    attrs["status"] = status
    attrs["message"] = message
    attrs["wall_time"] = float(wall_time)
    attrs["counters"] = counters_json
    attrs["finished"] = now()


# ----------------------------------------------------------------------------------- path files
def problem_identity(problem) -> Tuple[str, str]:
    """``(name, parameters as canonical JSON)`` of a problem, as a path file's root attributes store them."""
    params = dict(getattr(problem, "params", {}) or {})
    return str(getattr(problem, "name", type(problem).__name__)), json.dumps(params, sort_keys=True, default=jsonable)


#: Root attributes of a path file besides the header.
PATH_ATTRS = HEADER_ATTRS + ("problem", "parameters", "options", "end_reason", "writer_pid", "writer_host",
                             "resumed")
#: Root attributes a finished path file adds.
PATH_FINISH_ATTRS = HEADER_FINISH_ATTRS + ("n_accepted", "n_rejected", "n_steps")
#: Scalar columns of ``/steps``, one row per accepted step (row 0 is the start point).
STEP_COLUMNS = {"index": "i8", "lam": "f8", "s": "f8", "ds": "f8", "n_newton_iters": "i8", "residual": "f8",
                "contraction": "f8", "sigma_min": "f8", "cond": "f8", "det_sign": "f8", "wall_time": "f8"}
#: Columns of ``/rejected``, one row per rejected attempt (``reason`` besides: see :func:`reason_names_attr`).
REJECTED_COLUMNS = {"index": "i8", "lam": "f8", "ds": "f8", "n_newton_iters": "i8", "residual": "f8",
                    "contraction": "f8", "wall_time": "f8"}
#: Scalar columns of ``/events``, one row per special point (plus ``kind`` and ``p``).
EVENT_COLUMNS = {"lam": "f8", "s": "f8", "step": "i8", "value_a": "f8", "value_b": "f8"}
#: Schema 4: ``/events/extra``, one fixed-length UTF-8 JSON object per event: what the point's
#: ``SpecialPoint.extra`` holds (``l1`` at a Hopf point; ``a``, ``b``, ``cubic``, ``sigma`` at a fold;
#: ``a``, ``b``, ``c``, ``type``, ``kernel_dim`` at a branch point; on fold and Hopf curves ``c`` at a
#: cusp, ``a``, ``b`` at a Bogdanov–Takens point, ``l1``, ``l2`` at a generalised Hopf point; see
#: :mod:`pathtrack.normalform`).
EVENT_EXTRA_LEN = 256
#: The path schema version that added ``/events/extra``.
EVENT_EXTRA_SINCE = 4
#: Scalar fields of the checkpoint (arrays ``y``, ``tangent``, ``y_prev`` and ``event_values`` besides).
CHECKPOINT_SCALARS = {"ds": "f8", "s": "f8", "lam_direction": "i8", "n_steps": "i8", "n_accepted": "i8",
                      "n_rejected": "i8", "n_consecutive": "i8", "n_newton_iters": "i8", "n_events": "i8",
                      "status": "i8", "ref_log_abs_det": "f8", "wall_time": "f8", "has_y_prev": "i8",
                      "start_lam": "f8", "heartbeat": "f8"}
#: Checkpoint arrays besides :data:`CHECKPOINT_SCALARS`.
CHECKPOINT_ARRAYS = ("y", "tangent", "y_prev", "event_values", "start_p")
KIND_LEN = 64  # fixed-length UTF-8 strings: variable-length data is not SWMR-safe


def reason_names_attr() -> str:
    """The ``names`` attribute of ``/rejected/reason``: JSON ``{code: name}`` of every RejectReason."""
    from ..status import RejectReason

    return json.dumps({str(int(r)): r.name for r in RejectReason})


def event_datasets(version: int = SCHEMA_VERSIONS[PATH_FORMAT]) -> Tuple[str, ...]:
    """The columns of ``/events`` in path schema ``version`` (one row per event each)."""
    return (*EVENT_COLUMNS, "kind", "p") + (("extra",) if version >= EVENT_EXTRA_SINCE else ())


def path_datasets(version: int = SCHEMA_VERSIONS[PATH_FORMAT]) -> Tuple[str, ...]:
    """Every dataset a path file with steps holds in path schema ``version`` (besides the metric columns)."""
    keys = [f"steps/{c}" for c in STEP_COLUMNS] + ["steps/p", "steps/p_steps", "steps/tangent"]
    keys += [f"rejected/{c}" for c in (*REJECTED_COLUMNS, "reason")]
    keys += [f"events/{c}" for c in event_datasets(version)]
    keys += [f"checkpoint/{c}" for c in (*CHECKPOINT_ARRAYS, *CHECKPOINT_SCALARS)]
    return tuple(keys)


# ---------------------------------------------------------------------------------- train files
#: Root attributes of a training file besides the header: the network (JSON object with
#: ``widths``, ``activation``, ``temperature``, ``dtype``) and the configuration (JSON object).
TRAIN_ATTRS = HEADER_ATTRS + HEADER_FINISH_ATTRS + ("network", "config")
#: Per-epoch curves under ``/curves`` (row 0 is the initial point); ``test_pr`` is optional.
TRAIN_CURVES = ("epoch", "loss", "pr", "wall_time")
TRAIN_DATASETS = ("params",) + tuple(f"curves/{c}" for c in TRAIN_CURVES)
#: Root attributes of the schema-1 training layout that describe the network, not the configuration.
TRAIN_V1_NETWORK_ATTRS = ("widths", "activation", "temperature", "dtype")

# ---------------------------------------------------------------------------------- solve files
#: Root attributes of a solve file besides the header.
SOLVE_ATTRS = HEADER_ATTRS + HEADER_FINISH_ATTRS + ("system", "variables", "equations", "seed", "gamma", "summary",
                                                    "options", "kind_names")
#: Per-path columns under ``/paths`` and solution tables under ``/solutions``.
SOLVE_DATASETS = ("paths/endpoints", "paths/status", "paths/kind", "paths/winding", "paths/n_steps",
                  "solutions/regular", "solutions/residual", "solutions/cond", "solutions/singular",
                  "solutions/multiplicity", "solutions/winding")
#: Optional per-solution certificates of a solve file (``solve(..., certify=True)``, ``--certify``),
#: one row per row of ``solutions/regular``: box centre and radius, a Status code, realness
#: (1 real, 0 not real, -1 undecided) and the label of the distinct root (-1: not certified).
#: A file holds all of them or none.
SOLVE_CERTIFICATE_DATASETS = ("certificate/center", "certificate/radius", "certificate/status", "certificate/real",
                              "certificate/root")
#: Root attributes of the schema-1 solve layout (no common header).
SOLVE_V1_ATTRS = ("format", "system", "variables", "equations", "seed", "gamma", "summary", "options",
                  "kind_names")

# -------------------------------------------------------------------------------- diagram files
#: Root attributes of a diagram file besides the header: the problem, its parameters, the tracker
#: options of the branches (JSON), the switching ``depth``, and ``explorer`` (JSON: the queue of
#: branches still to track and the branch points met, what ``--resume`` continues from).
DIAGRAM_ATTRS = HEADER_ATTRS + ("problem", "parameters", "options", "depth", "explorer", "writer_pid",
                                "writer_host")
#: Columns of ``/tree``, one row per stored branch: its id, its parent (-1 for the first branch),
#: the row of the parent's ``events`` it was switched from (-1), its depth, and the number of
#: branches switched from it.
TREE_COLUMNS = {"branch": "i8", "parent": "i8", "origin_event": "i8", "depth": "i8", "n_children": "i8"}


#: Schema 2: the branches' rows in shared tables under ``/tables``, appended branch after branch
#: in SWMR mode (schema 1 copied each branch into a group ``/branches/NNNN`` of a new version of
#: the whole file). ``/tables/steps``, ``/tables/rejected`` and ``/tables/events`` hold the columns
#: of a path file's groups of the same names, the rows of every branch one after the other;
#: ``/tables/checkpoint/{y,tangent,y_prev,start_p}`` one row per branch (its final checkpoint);
#: ``/tables/json`` (bytes) one JSON document per branch: ``attrs`` (the branch's root attributes as
#: a path file has them), ``metrics`` (its metric names), ``scalars`` (checkpoint scalars) and
#: ``event_values``. The explorer's state after branch k (JSON, what a resume continues from) is
#: in ``/tables/explorer_{k mod 2}``, its first ``explorer_len`` bytes: two slots, so that writing
#: one never touches the state the last committed branch left. Row k of ``/tree`` ends branch k's
#: rows with these cumulative counts (its first rows are row k − 1's ends); it is written after
#: them, so a reader ignores the rows of a branch in progress.
TREE_END_COLUMNS = {"steps_end": "i8", "p_end": "i8", "rejected_end": "i8", "events_end": "i8", "json_end": "i8",
                    "explorer_len": "i8"}
#: Per-branch arrays of ``/tables/checkpoint`` (``start_p`` has the unknowns' width, the others ``m + 1``).
TABLE_CHECKPOINT_ARRAYS = ("y", "tangent", "y_prev", "start_p")


def branch_group(branch: int) -> str:
    """The group of branch ``branch`` in a diagram file: a path file's layout (``/steps``, ``/events`` ...)."""
    return f"branches/{int(branch):04d}"


#: Schema 2: attributes of a ``/curves/NNNN`` group (a fold or Hopf curve in a path file's layout)
#: besides a path file's: ``curve_kind`` (``fold``/``hopf``), the second parameter ``par2``, and the
#: branch and the row of its ``events`` the curve was continued from (``parent_branch``, ``parent_event``).
CURVE_ATTRS = ("curve_kind", "par2", "parent_branch", "parent_event")


def curve_group(curve: int) -> str:
    """The group of two-parameter curve ``curve`` in a diagram file (a path file's layout)."""
    return f"curves/{int(curve):04d}"


#: Schema 3: cycle branches, one group ``/cycles/NNNN`` each, holding a cycles file's root attributes
#: and datasets (``/orbits``, ``/points``, ``/checkpoint``; see :data:`CYCLES_ATTRS`), plus the branch
#: and the row of its ``events`` of the Hopf point the cycle branch starts from. The root attribute
#: ``cycle_options`` (JSON options of the cycle branches; ``""``: none asked for) is schema 3's too.
CYCLE_BRANCH_ATTRS = ("parent_branch", "parent_event")
#: The diagram schema version that added ``/cycles`` and ``cycle_options``.
DIAGRAM_CYCLES_SINCE = 3


def cycle_group(cycle: int) -> str:
    """The group of cycle branch ``cycle`` in a diagram file (a cycles file's layout)."""
    return f"cycles/{int(cycle):04d}"


# --------------------------------------------------------------------------------- cycles files
#: Root attributes of a cycle-branch file besides the header: the problem, its parameters and
#: the options (JSON objects), ``end_reason``, ``hopf`` (JSON: the start's ``lam``, ``omega``,
#: ``l1``, ``p``) and ``special_points`` (JSON list: ``kind``, ``lam``, ``s``, ``step`` and the
#: extras ``period``, ``l2``, ``mu_re``, ``mu_im``).
CYCLES_ATTRS = HEADER_ATTRS + HEADER_FINISH_ATTRS + ("problem", "parameters", "options", "end_reason", "hopf",
                                                     "special_points", "ntst", "ncol")
#: Per-orbit columns under ``/orbits`` (row 0 is the first orbit).
CYCLES_COLUMNS = ("lam", "period", "l2", "amplitude", "s", "ds", "n_unstable", "n_newton_iters", "wall_time")
#: Per-orbit arrays: Floquet multipliers (k, n) as real and imaginary parts, the mesh (k, ntst + 1)
#: and the orbit at its nodes (k, ntst·ncol + 1, n).
CYCLES_DATASETS = tuple(f"orbits/{c}" for c in CYCLES_COLUMNS + ("multipliers_re", "multipliers_im", "mesh",
                                                                  "profile"))
#: Integer columns among :data:`CYCLES_COLUMNS` (the others are float64).
CYCLES_INT_COLUMNS = ("n_unstable", "n_newton_iters")
#: Schema 2: one row per special point under ``/points`` (``json``: the point's ``special_points``
#: entry; ``p``: its node profile and period; ``mesh``), written as each is located.
CYCLES_POINT_DATASETS = ("points/json", "points/p", "points/mesh")
#: Length in bytes of a ``/points/json`` row.
POINT_JSON_LEN = 1024
#: Schema 2: ``/checkpoint`` of a cycle branch, rewritten after every accepted orbit: ``y`` (node
#: profile, period, λ), ``tangent``, ``mesh``, ``values`` (test functions; names in its ``names``
#: attribute) and ``scalars``, these values in this order (float64; the counts are exact integers).
#: ``n_orbits``/``n_points`` are the rows the checkpoint matches.
CYCLES_CHECKPOINT_SCALARS = ("ds", "s", "wall_time", "n_steps", "n_accepted", "n_rejected", "n_consecutive",
                             "n_orbits", "n_points", "n_H_evals")


# ------------------------------------------------------------------------------ parameter files
#: Root attributes of a parameter-homotopy file besides the header: the joint system (``equations``
#: in unknowns and parameters), which names are ``parameters``, the start parameters ``q0``
#: (JSON ``[[re, im], ...]``) and the filters of the stored solutions.
PARAMETER_ATTRS = HEADER_ATTRS + HEADER_FINISH_ATTRS + ("system", "variables", "parameters", "equations", "seed",
                                                        "q0", "summary", "options", "kind_names", "only_real",
                                                        "only_nonsingular")
#: ``/start`` holds the start solutions at ``q0``; ``/targets`` one row per target parameter value;
#: ``/paths`` one row per (target, start) pair, target-major; ``/solutions`` the solutions the
#: filters keep, each with the index of its target.
PARAMETER_DATASETS = ("start/solutions", "targets/values", "targets/status", "targets/n_regular",
                      "targets/n_singular", "targets/n_failed", "paths/target", "paths/endpoints", "paths/status",
                      "paths/kind", "paths/winding", "paths/n_steps", "solutions/target", "solutions/points",
                      "solutions/singular")
