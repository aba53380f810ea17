"""Command-line interface (click).

Every command validates its arguments and turns user mistakes (unknown problem, bad
``--set`` value, unreadable file) into a one-line error with exit status 2, never a
traceback. Commands use the public Python API only.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Dict, Iterable, Tuple

import click

from ._version import __version__

__all__ = ["main"]


class UserError(click.UsageError):
    """A one-line user error: printed without a traceback, exit status 2."""

    def show(self, file=None) -> None:  # no usage banner, just the reason
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def parse_assignments(items: Iterable[str], what: str) -> Dict[str, str]:
    """Split ``KEY=VALUE`` strings; a malformed one is a user error."""
    out: Dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{what} expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def convert_parameters(defaults: Dict[str, object], values: Dict[str, str], problem: str) -> Dict[str, object]:
    """Convert ``--set`` texts by the type of each parameter's default."""
    from .options import OptionsError, convert_text

    out = {}
    for key, text in values.items():
        if key not in defaults:
            raise UserError(f"problem {problem!r} has no parameter {key!r}; valid: {', '.join(defaults) or '(none)'}")
        default = defaults[key]
        try:
            if isinstance(default, (list, tuple)):
                item_type = type(default[0]) if len(default) else float
                out[key] = type(default)(convert_text(key, t, item_type) for t in text.split(",") if t.strip())
            elif default is None:
                out[key] = _guess(text)
            else:
                out[key] = convert_text(key, text, type(default))
        except OptionsError as exc:  # the message names a tracker "option"; this is a problem parameter
            raise UserError(f"--set {key}={text}: {str(exc).removeprefix(f'option {key}: ')}") from None
        values = out[key] if isinstance(out[key], (list, tuple)) else [out[key]]
        if any(isinstance(v, float) and math.isnan(v) for v in values):
            raise UserError(f"--set {key}={text}: NaN is not a value of parameter {key!r}")
    return out


def problem_params(problem: str, sets: Iterable[str]) -> Dict[str, object]:
    """The ``--set`` values of a registered problem, converted by its parameters' types."""
    from .problem import problem_parameters
    from .registry import UnknownProblemError, load_problem_class

    try:
        cls = load_problem_class(problem)
    except UnknownProblemError as exc:
        raise UserError(str(exc)) from None
    return convert_parameters(problem_parameters(cls), parse_assignments(sets, "--set"), problem)


def check_out(out, force: bool) -> None:
    """Refuse an ``--out`` file before any computation: an existing one without ``--force``, a missing directory."""
    import os

    if not out:
        return
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UserError(f"--out {out}: directory {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(f"--out {out}: directory {folder} is not writable")
    if os.path.exists(out) and not force:
        raise UserError(f"{out} exists; use --force to overwrite it")


def _guess(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pathtrack")
def main() -> None:
    """pathtrack: numerical continuation and homotopy path tracking."""
    from .threads import configure_threads

    configure_threads()  # before any command imports numpy: see THREAD_ENV for the measured effect


@main.command("problems")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def problems_cmd(as_json: bool) -> None:
    """List the registered problem plugins."""
    from .registry import describe_all

    rows = describe_all()
    if as_json:
        click.echo(_dumps(rows, indent=1))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['description']}")


@main.command("run")
@click.argument("problem")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Problem parameter (repeatable).")
@click.option("--option", "-o", "opts", multiple=True, metavar="KEY=VALUE",
              help="Tracker option (repeatable); preset=default|fast|conservative retunes the problem's defaults.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the path to this HDF5 file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--resume", type=click.Path(dir_okay=False), default=None,
              help="Continue a run (a path or a cycle branch) from its file; the run goes on writing that file "
                   "(not with --out).")
@click.option("--from", "source", default=None, metavar="FILE:hopfK|FILE:pdK",
              help="Continue the periodic orbits born at the K-th Hopf point of a path file, or the doubled "
                   "branch at the K-th period doubling of a cycle file, instead (--out then writes the cycle "
                   "branch, orbit by orbit).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def run_cmd(problem: str, sets: Tuple[str, ...], opts: Tuple[str, ...], out, force, resume, source, as_json,
            progress):
    """Track the solution path of PROBLEM (or its periodic orbits, --from) and print a summary."""
    from .driver import run_problem
    from .options import OptionsError
    from .problem import ProblemError

    if resume and out:
        raise UserError("--resume continues the run in its own file; --out cannot be combined with it "
                        "(copy the file first to keep the original)")
    check_out(out, force)
    params = problem_params(problem, sets)
    option_texts = parse_assignments(opts, "--option")
    if progress is None:
        progress = sys.stderr.isatty() and not as_json
    if source and resume:
        raise UserError("--from starts a cycle branch; --resume continues a run: use one of them")
    try:
        if source or (resume and _is_cycles_file(resume)):
            from .periodic.continuation import run_cycles
            summary = run_cycles(problem, params, option_texts, source, out=out, force=force, resume=resume,
                                 progress=progress)
        else:
            summary = run_problem(problem, params, option_texts, out=out, force=force, resume=resume,
                                  progress=progress)
    except (OptionsError, ProblemError, FileExistsError, FileNotFoundError, *_storage_errors()) as exc:
        raise UserError(str(exc)) from None
    except ArithmeticError as exc:  # Python-float overflow or division by zero in the problem's code
        raise UserError(f"{problem}: {type(exc).__name__} in the problem's functions ({exc}); "
                        "check the --set values") from None
    if as_json:
        click.echo(_dumps(summary))
    else:
        _print_summary(summary)
    # Status.is_failure knows which endings are answers (a cycle branch's homoclinic and hopf_end among
    # them); an interrupted run is not a failure, but not finished either.
    from .status import Status

    status = Status[summary["status"]]
    if status.is_failure or status is Status.interrupted:
        sys.exit(1)


def _is_cycles_file(path: str) -> bool:
    """Whether ``path`` is a cycle-branch file (anything else is left to the path run to judge)."""
    from .io import CYCLES_FORMAT
    from .io.reader import _format

    try:
        return _format(path) == CYCLES_FORMAT
    except Exception:
        return False


def _json_default(o):
    import numpy as np
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite_or_none(o):
    """``o`` with every NaN or infinity replaced by None (JSON has no such numbers)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite_or_none(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite_or_none(v) for v in o]
    try:
        o = _json_default(o)
    except TypeError:
        return o
    return _finite_or_none(o)


def _dumps(obj, **kwargs) -> str:
    """Strict JSON for every command's ``--json``: non-finite numbers become ``null``."""
    return json.dumps(_finite_or_none(obj), allow_nan=False, **kwargs)


def _num(value, spec: str = ".6g") -> str:
    """A number for the text summaries; ``n/a`` for a missing or NaN one."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def _print_summary(summary: dict) -> None:
    click.echo(f"problem   {summary['problem']}")
    click.echo(f"status    {summary['status']}: {summary['message']}")
    if summary.get("end_reason"):
        click.echo(f"reason    {summary['end_reason']}")
    click.echo(f"steps     {summary['n_accepted']} accepted, {summary['n_rejected']} rejected")
    if summary["lam_start"] is not None:  # None: the run stopped before its first step
        click.echo(f"lambda    {_num(summary['lam_start'])} -> {_num(summary['lam_end'])}")
    click.echo(f"wall time {_num(summary['wall_time'], '.3f')} s")
    if summary.get("metrics_end"):
        click.echo("metrics   " + ", ".join(f"{k}={_num(v)}" for k, v in summary["metrics_end"].items()))
    if summary.get("report"):
        click.echo("report    " + ", ".join(f"{k}={_num(v)}" for k, v in summary["report"].items()))
    for ev in summary.get("events", []):
        click.echo(f"event     {ev['kind']} at lam = {_num(ev['lam'], '.12g')} (step {ev['step']})")
    for name, why in (summary.get("diagnostics_off") or {}).items():
        click.echo(f"off       {name}: {why}")
    if summary.get("out"):
        click.echo(f"written   {summary['out']}")


@main.command("diagram")
@click.argument("problem", required=False)
@click.option("--depth", default="1", show_default=True, metavar="N",
              help="Switch at branch points this many times deep (a positive integer).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Problem parameter (repeatable).")
@click.option("--option", "-o", "opts", multiple=True, metavar="KEY=VALUE",
              help="Tracker option of the first branch (repeatable); the switched ones use pseudo-arclength.")
@click.option("--max-branches", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--cycles", is_flag=True,
              help="Also continue the branch of periodic orbits born at every Hopf point (ODE problems), in the "
                   "diagram's lambda-box.")
@click.option("--cycle-option", "-c", "cycle_opts", multiple=True, metavar="KEY=VALUE",
              help="Option of the cycle branches (repeatable; with --cycles): ntst, ncol, max_steps, max_ds ...")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the diagram to this HDF5 file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--resume", type=click.Path(dir_okay=False), default=None,
              help="Finish a diagram from its file (PROBLEM and --set must match it).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
def diagram_cmd(problem, depth: str, sets, opts, max_branches: int, cycles: bool, cycle_opts, out, force, resume,
                as_json):
    """Explore the bifurcation diagram of PROBLEM: every branch point spawns its branches, up to --depth."""
    from .branching import BranchSwitchError
    from .diagram import check_depth, diagram
    from .driver import build_options
    from .io import StorageError
    from .options import OptionsError
    from .problem import ProblemError
    from .registry import make_problem

    if problem is None:
        raise UserError("missing argument PROBLEM")
    if resume and out:
        raise UserError("--resume continues the diagram in its own file; --out cannot be combined with it")
    if resume and (cycles or cycle_opts):
        raise UserError("--resume continues the diagram with the cycle options stored in its file; "
                        "--cycles/--cycle-option cannot be combined with it")
    if cycle_opts and not cycles:
        raise UserError("--cycle-option sets options of the cycle branches; add --cycles to continue them")
    try:
        depth_n = check_depth(int(depth) if depth.strip().lstrip("+-").isdigit() else depth)
    except OptionsError as exc:
        raise UserError(f"--depth: {exc}") from None
    check_out(out, force)
    params = problem_params(problem, sets)
    try:
        pb = make_problem(problem, **params)
        options = build_options(pb, parse_assignments(opts, "--option"))
        cycle_options = build_options(pb, parse_assignments(cycle_opts, "--cycle-option")) if cycles else False
        result = diagram(pb, depth_n, options=options, out=out, force=force, resume=resume,
                         max_branches=max_branches, cycles=cycle_options)
    except (OptionsError, ProblemError, BranchSwitchError, FileExistsError, FileNotFoundError, StorageError) as exc:
        raise UserError(str(exc)) from None
    summary = result.summary()
    if as_json:
        click.echo(_dumps(summary))
    else:
        click.echo(f"problem   {summary['problem']}")
        click.echo(f"status    {summary['status']}: {summary['message']}")
        click.echo(f"branches  {summary['n_branches']} (depth {summary['depth']}); wall time "
                   f"{_num(summary['wall_time'], '.3f')} s")
        for b in summary["branches"]:
            pts = ", ".join(f"{e['kind']} {e['lam']:.12g}" for e in b["events"]) or "-"
            click.echo(f"  {b['branch']:>3} from {b['parent']:>3}  {b['status']:<16} lam {_num(b['lam_start'])} -> "
                       f"{_num(b['lam_end'])}  {pts}")
        for u in summary["unswitched"]:
            click.echo(f"  not switched at lam = {_num(u['lam'], '.10g')}: {u['reason']}")
        for c in summary["cycles"]:
            pts = ", ".join(f"{e['kind']} {e['lam']:.12g}" for e in c["events"]) or "-"
            click.echo(f"  cycles {c['cycle']} from branch {c['branch']} hopf (event {c['event']}) "
                       f"{c['status']:<16} {c['n_orbits']} orbits, lam {_num(c['hopf_lam'])} -> "
                       f"{_num(c['lam_end'])}  {pts}")
        if out or resume:
            click.echo(f"written   {out or resume}")
    if summary["status"] != "success":
        sys.exit(1)


def _storage_errors() -> tuple:
    """``(StorageError, DatasetError)``, imported only when an exception is matched against them: a ``run``
    without files needs neither ``pathtrack.io`` nor ``pathtrack.datasets`` (start-up time)."""
    from .datasets import DatasetError
    from .io import StorageError

    return StorageError, DatasetError


def _event_point(f, k: int):
    """Event ``k`` of a path file as a :class:`~pathtrack.events.SpecialPoint`."""
    from .events import SpecialPoint

    e = f.events[k]
    return SpecialPoint(kind=e["kind"], lam=e["lam"], s=e["s"], step=e["step"], p=f.event_p(k))


@main.command("switch")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--event", "event", type=int, required=True, metavar="K",
              help="Row of the file's events to switch at (as `pathtrack inspect` lists them, from 0).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def switch_cmd(file: str, event: int, as_json: bool) -> None:
    """Track the new branches through branch point K of a path file, in both directions."""
    from .branching import BranchSwitchError, switch_branch
    from .io import DiagramFile, StorageError
    from .options import OptionsError
    from .problem import ProblemError
    from .registry import UnknownProblemError, make_problem

    f = _open_file(file)
    with f:
        if isinstance(f, DiagramFile):
            raise UserError(f"{file}: a diagram file; switch at an event of a path file "
                            "(or explore deeper with pathtrack diagram --depth)")
        events = f.events
        if not 0 <= event < len(events):
            raise UserError(f"--event {event}: {file} has {len(events)} event(s)"
                            + (f"; use 0..{len(events) - 1}" if events else ""))
        e, point = events[event], _event_point(f, event)
        try:
            problem = make_problem(f.problem, **f.parameters)
            results = switch_branch(problem, f, point)
        except (BranchSwitchError, OptionsError, ProblemError, UnknownProblemError, StorageError) as exc:
            raise UserError(f"--event {event} ({e['kind']} at lam = {e['lam']:.10g}): {exc}") from None
    summaries = [r.summary() for r in results]
    if as_json:
        click.echo(_dumps({"file": file, "event": event, "branches": summaries}))
    else:
        for k, sm in enumerate(summaries):
            pts = ", ".join(f"{ev['kind']} {ev['lam']:.12g}" for ev in sm["events"]) or "-"
            click.echo(f"branch {k}  {sm['status']:<16} lam {_num(sm['lam_start'])} -> {_num(sm['lam_end'])}  "
                       f"{sm['n_accepted']} steps  {pts}")
    if any(r.status.is_failure for r in results):
        sys.exit(1)


def _curve_options(what: str, point: str):
    """The options shared by ``pathtrack fold`` and ``pathtrack hopf``."""
    def wrap(fn):
        for opt in reversed([
            click.option("--event", "event", type=int, required=True, metavar="K",
                         help=f"Row of the file's events: {point} (as `pathtrack inspect` lists them, from 0)."),
            click.option("--branch", "branch", type=int, default=None, metavar="B",
                         help=f"For a diagram file: the branch whose event K is the {what}."),
            click.option("--par2", required=True, metavar="NAME",
                         help="The second parameter: a numeric problem parameter."),
            click.option("--min", "par2_min", type=float, default=None,
                         help="Lower end of the --par2 range (default: value - 1)."),
            click.option("--max", "par2_max", type=float, default=None,
                         help="Upper end of the --par2 range (default: value + 1)."),
            click.option("--direction", type=click.Choice(["1", "-1"]), default="1", show_default=True,
                         help="Increase (1) or decrease (-1) --par2 from its value."),
            click.option("--out", type=click.Path(dir_okay=False), default=None,
                         help="Write the curve to this HDF5 path file, or add it to this diagram file "
                              "(pathtrack plot --kind twoparam draws it)."),
            click.option("--force", is_flag=True, help="Overwrite an existing --out file."),
            click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object."),
        ]):
            fn = opt(fn)
        return fn
    return wrap


@main.command("fold")
@click.argument("file", type=click.Path(dir_okay=False))
@_curve_options("fold", "a fold")
def fold_cmd(file: str, event: int, branch, par2: str, par2_min, par2_max, direction: str, out, force,
             as_json: bool) -> None:
    """Continue fold K of a path file (or of --branch B of a diagram file) in a second parameter (--par2).

    Prints the fold curve's ends and its cusp (CP) and Bogdanov-Takens (BT) points.
    """
    from .events import FOLD

    _two_parameter(FOLD, file, event, branch, par2, par2_min, par2_max, direction, out, force, as_json)


@main.command("hopf")
@click.argument("file", type=click.Path(dir_okay=False))
@_curve_options("Hopf point", "a Hopf point")
def hopf_cmd(file: str, event: int, branch, par2: str, par2_min, par2_max, direction: str, out, force,
             as_json: bool) -> None:
    """Continue Hopf point K of a path file (or of --branch B of a diagram file) in a second parameter (--par2).

    Prints the Hopf curve's ends, its Bogdanov-Takens (BT), zero-Hopf (ZH) and generalised Hopf (GH)
    points, and the first Lyapunov coefficient l1 at its ends.
    """
    from .events import HOPF

    _two_parameter(HOPF, file, event, branch, par2, par2_min, par2_max, direction, out, force, as_json)


def _two_parameter(kind: str, file: str, event: int, branch, par2: str, par2_min, par2_max, direction: str, out,
                   force: bool, as_json: bool) -> None:
    """What ``pathtrack fold`` and ``pathtrack hopf`` do: find the point, continue it, report (and store) the curve."""
    from .events import HOPF
    from .io import DiagramFile, StorageError
    from .options import OptionsError
    from .problem import ProblemError
    from .registry import make_problem
    from .twoparam import continue_curve

    from .twoparam import _is_diagram

    what = {HOPF: "a Hopf point"}.get(kind, f"a {kind}")
    if out is not None and not _is_diagram(out):  # a diagram file gets the curve added
        check_out(out, force)
    with _open_file(file) as opened:
        f = opened
        if isinstance(opened, DiagramFile):
            ids = [int(b) for b in opened.tree["branch"]]
            if branch not in ids:
                raise UserError(f"{file}: a diagram file; name one of its branches with --branch "
                                f"({', '.join(map(str, ids))})")
            f = opened.branches[ids.index(branch)]
        elif branch is not None:
            raise UserError(f"--branch: {file} is a path file, not a diagram")
        events = f.events
        if not 0 <= event < len(events) or events[event]["kind"] != kind:
            rows = [i for i, e in enumerate(events) if e["kind"] == kind]
            raise UserError(f"--event {event}: not {what} of {file} (its {kind} points: "
                            f"{', '.join(map(str, rows)) or 'none'})")
        point = _event_point(f, event)
        try:
            problem = make_problem(f.problem, **f.parameters)
            curve = continue_curve(problem, point, par2, direction=int(direction), lam_min=par2_min,
                                   lam_max=par2_max, out=out, force=force,
                                   parent=(-1 if branch is None else branch, event))
        except (OptionsError, ProblemError, StorageError) as exc:
            raise UserError(str(exc)) from None
    summary = curve.summary()
    summary["par2"] = par2
    summary["out"] = out
    lam_col = -2 if kind == HOPF else -1  # Hopf rows are (p, lambda, omega^2)
    if kind == HOPF and curve.n_accepted:
        summary["l1_start"], summary["l1_end"] = float(curve.metrics["l1"][0]), float(curve.metrics["l1"][-1])
    if as_json:
        click.echo(_dumps(summary))
    else:
        click.echo(f"{'Hopf' if kind == HOPF else 'fold'} curve of {f.problem} in ({par2}, lambda)")
        click.echo(f"status    {summary['status']}: {summary['message']}")
        click.echo(f"steps     {summary['n_accepted']} accepted; {par2} {_num(summary['lam_start'])} -> "
                   f"{_num(summary['lam_end'])}, lambda {_num(float(curve.p[0, lam_col]))} -> "
                   f"{_num(float(curve.p[-1, lam_col]))}")
        if "l1_start" in summary:
            click.echo(f"l1        {_num(summary['l1_start'])} -> {_num(summary['l1_end'])}")
        for sp in curve.special_points:
            if sp.kind in ("fold", "bp", "hopf"):  # turning points of the curve itself are no codim-2 points
                continue
            click.echo(f"event     {sp.kind} at {par2} = {sp.lam:.12g}, lambda = {float(sp.p[lam_col]):.12g}"
                       + _normal_form_text(sp.extra))
        if out is not None:
            click.echo(f"written   {out}")
    if curve.status.is_failure:
        sys.exit(1)


# --- train (neural-network training; pathtrack.nn) -----------------------------------------------


@main.command("train")
@click.argument("dataset", type=click.Choice(["mnist", "fashion-mnist"]))
@click.option("--hidden", default="100", show_default=True, help="Hidden widths, comma-separated (e.g. 100 or 300,100).")
@click.option("--activation", type=click.Choice(["switch", "relu", "tanh", "sigmoid"]), default="switch",
              show_default=True)
@click.option("--temperature", type=float, default=1.0, show_default=True, help="Softmax temperature T.")
@click.option("--loss", type=click.Choice(["cross_entropy", "mse", "margin"]), default="cross_entropy",
              show_default=True)
@click.option("--epochs", type=click.IntRange(min=0), default=5, show_default=True)
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True, help="Step size.")
@click.option("--momentum", type=float, default=0.9, show_default=True, help="SGD momentum.")
@click.option("--batch-size", type=click.IntRange(min=0), default=128, show_default=True,
              help="Mini-batch size; 0 for full batch.")
@click.option("--subset", type=click.IntRange(min=1), default=None, help="Class-stratified subset of the training set.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--init", type=click.Choice(["glorot", "uniform"]), default="glorot", show_default=True)
@click.option("--init-scale", type=float, default=0.5, show_default=True, help="a of uniform(-a, a).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Root of the data sets.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write parameters and curves to HDF5.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--scheduler", default=None, metavar="ADDRESS|local:N",
              help="Shard the full-batch loss and gradient over this dask scheduler's workers.")
def train_cmd(dataset, hidden, activation, temperature, loss, epochs, optimizer, lr, momentum, batch_size, subset,
              seed, init, init_scale, dtype, data_dir, out, force, progress, scheduler):
    """Train a fully connected network on DATASET with SGD or Adam; print PR per epoch."""
    from .datasets import DatasetError, load_idx_dataset
    from .nn import Network
    from .nn.train import save_result, train

    try:
        widths = [int(h) for h in hidden.split(",") if h.strip()]
    except ValueError:
        widths = []
    if not widths or min(widths) < 1:  # no hidden layer would train a linear model
        raise UserError(f"--hidden expects comma-separated integers, at least one and all positive "
                        f"(e.g. 100 or 300,100), got {hidden!r}")
    check_out(out, force)
    if scheduler:
        from .nn.distributed import SchedulerError, connect

        try:
            scheduler = connect(scheduler)
        except SchedulerError as exc:
            raise UserError(str(exc)) from None
    try:
        data = load_idx_dataset(dataset, "train", data_dir=data_dir, dtype=dtype, subset=subset, seed=seed)
        test = load_idx_dataset(dataset, "test", data_dir=data_dir, dtype=dtype)
        net = Network([data.X.shape[1], *widths, data.n_classes], activation, temperature, dtype)
        result = train(net, data.X, data.y, optimizer=optimizer, lr=lr, epochs=epochs,
                       batch_size=batch_size or None, momentum=momentum, loss=loss, init=init,
                       init_scale=init_scale, seed=seed, X_test=test.X, y_test=test.y, progress=progress,
                       scheduler=scheduler)
        if out:
            save_result(out, result, force=force, attrs={"dataset": dataset, "subset": subset or 0})
    except (DatasetError, ValueError, FileExistsError, OSError) as exc:
        raise UserError(str(exc)) from None
    click.echo(f"network   {net.widths} {activation}, T = {temperature:g}, {dtype}")
    click.echo("epoch  loss        train PR  test PR  time/s")
    for k in range(len(result.epoch)):
        click.echo(f"{k:5d}  {result.loss[k]:.6f}  {result.pr[k]:.4f}    {result.test_pr[k]:.4f}   "
                   f"{result.wall_time[k]:.2f}")
    if out:
        click.echo(f"written   {out}")


# --- solve (polynomial systems; pathtrack.polynomial) -------------------------------------------------

# Default of --max-paths; the value of pathtrack.polynomial.solver.LARGE_JOB_PATHS, written out so
# that `pathtrack --help` does not import the compiled solver.
LARGE_SOLVE_PATHS = 10**6


@main.command("solve")
@click.argument("system")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of gamma and the affine patch.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Threads (default: all cores).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write endpoints to this HDF5 file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@click.option("--solutions", "with_solutions", is_flag=True, help="Include the solutions in the output.")
@click.option("--max-paths", type=click.IntRange(min=1), default=LARGE_SOLVE_PATHS, show_default=True,
              help="Refuse systems with more paths (Bézout number) than this.")
@click.option("--yes", "-y", "assume_yes", is_flag=True, help="Start however many paths the system has.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@click.option("--parameters", "parameter_names", default=None, metavar="NAMES",
              help="Comma-separated names of SYSTEM's parameters: solve at every row of --targets (parameter "
                   "homotopy).")
@click.option("--targets", type=click.Path(dir_okay=False), default=None,
              help="With --parameters: a text file of parameter values, one target per line.")
@click.option("--start", "start_file", type=click.Path(dir_okay=False), default=None,
              help="With --parameters: start solutions from an HDF5 file (a parameter run, or a solve at --q0) "
                   "instead of a total-degree solve at a random q0.")
@click.option("--q0", default=None, metavar="VALUES", help="With --parameters: comma-separated start parameters.")
@click.option("--only-real", is_flag=True, help="With --parameters: keep only the real solutions.")
@click.option("--with-singular", is_flag=True, help="With --parameters: keep the singular solutions too.")
@click.option("--start-system", type=click.Choice(["total_degree", "polyhedral", "auto"]), default="total_degree",
              show_default=True, help="Start system: one path per Bézout root, one per unit of mixed volume "
                                      "(polyhedral homotopy), or whichever has fewer paths.")
@click.option("--certify", "certify", is_flag=True,
              help="Prove each regular solution by an interval Krawczyk test (needs the 'certify' extra).")
def solve_cmd(system: str, seed: int, workers, out, force: bool, as_json: bool, with_solutions: bool, max_paths,
              assume_yes: bool, progress, parameter_names, targets, start_file, q0, only_real: bool,
              with_singular: bool, start_system: str, certify: bool):
    """Find all isolated solutions of SYSTEM (a PHCpack file or a family such as katsura:8).

    With --parameters and --targets, SYSTEM has parameters (a PHCpack file whose first line counts
    equations, then unknowns and parameters together): it is solved once at a random complex q0 and
    the solutions are tracked to each target (docs/solving_systems.md, "Parameter homotopies and
    monodromy").

    Exit status: 0 when every path is accounted for, 1 when a path failed or a crossing stayed
    unresolved, 130 when stopped by Ctrl-C (the partial summary is printed), 2 for a user error.
    """
    import os

    from .polynomial import available_families, is_family_spec, solve

    check_out(out, force)
    if not is_family_spec(system) and not os.path.isfile(system):
        raise UserError(f"{system!r} is neither a file nor a family like katsura:8 "
                        f"(families: {', '.join(available_families()) or 'none registered'})")
    if progress is None:
        progress = sys.stderr.isatty() and not as_json
    parametric = {"--targets": targets, "--start": start_file, "--q0": q0, "--only-real": only_real or None,
                  "--with-singular": with_singular or None}
    if parameter_names is not None or targets is not None:
        if certify:
            raise UserError("--certify certifies a plain solve; it does not apply with --parameters")
        if parameter_names is None or targets is None:
            raise UserError("--parameters and --targets go together: name the parameters and give the file of "
                            "target values")
        _solve_parameters_cmd(system, parameter_names, targets, start_file, q0, seed, workers, out, force, as_json,
                              with_solutions, None if assume_yes else max_paths, progress, only_real, with_singular)
        return
    given = [k for k, v in parametric.items() if v is not None]
    if given:
        raise UserError(f"{', '.join(given)} need(s) --parameters and --targets")
    result = _compute_and_write(lambda: solve(system, seed=seed, workers=workers, progress=progress,
                                              max_paths=None if assume_yes else max_paths, start=start_system,
                                              certify=certify),
                                out, force)
    if as_json:
        click.echo(_dumps(result.summary(with_solutions)))
    else:
        _print_solve_summary(result, with_solutions, out)
    if result.n_interrupted:
        sys.exit(130)
    if not result.is_complete:
        sys.exit(1)


def _print_solve_summary(result, with_solutions: bool, out) -> None:
    """Text summary of a SolveResult; an incomplete result says so and names the paths concerned."""
    click.echo(f"system      {result.system.name} ({result.system.n_variables} unknowns, "
               f"degrees {result.system.degrees.tolist()})")
    mv = f", mixed volume {result.mixed_volume}" if result.mixed_volume is not None else ""
    click.echo(f"paths       {result.n_paths} ({result.start.replace('_', '-')} start{mv})")
    click.echo(f"regular     {result.n_regular}")
    click.echo(f"singular    {result.n_singular} (multiplicities {result.multiplicities.tolist()})")
    if result.n_positive_dimensional:
        click.echo(f"            {result.n_isolated_singular} isolated, {result.n_positive_dimensional} on "
                   "positive-dimensional components (no isolated roots)")
    click.echo(f"at infinity {result.n_at_infinity}")
    failed = result.failed_paths()
    click.echo(f"failed      {result.n_failed} {result.failures() or ''}")
    if failed:
        click.echo(f"            paths {_index_list(failed)}")
    if result.n_interrupted:
        click.echo(f"interrupted {result.n_interrupted} paths not tracked to the end")
    if result.n_unresolved_crossings:
        click.echo(f"crossings   {result.n_unresolved_crossings} unresolved (several paths reached the same "
                   "regular solution)")
    cert = result.certificate
    if cert is not None:
        reasons = {k: v for k, v in cert.reasons().items() if k != "success"}
        click.echo(f"certified   {cert.n_certified} of {cert.n_solutions} regular ({cert.n_certified_distinct} "
                   f"distinct, {cert.n_certified_real} real; {cert.total_time:.3f} s)"
                   + (f", not certified: {reasons}" if reasons else ""))
    click.echo(f"wall time   {result.wall_time:.3f} s")
    if with_solutions:
        names = result.system.variables
        for k, row in enumerate(result.solutions):
            click.echo(f"solution {k + 1}: " + ", ".join(f"{v} = {z.real:.15g}{z.imag:+.15g}i" for v, z in zip(names, row)))
    if out:
        click.echo(f"written     {out}")
    if not result.is_complete:
        click.echo("INCOMPLETE: solutions may be missing from these counts (failed, interrupted or crossed "
                   "paths above)", err=True)


def _compute_and_write(compute, out, force: bool, errors: tuple = ()):
    """``compute()`` with its RuntimeWarnings shown as ``warning:`` lines, the result written to ``out``;
    bad input (a syntax error, a ValueError, an unreadable file, or one of ``errors``) becomes a one-line
    UserError. (``errors`` rather than an import here: ``pathtrack.io`` is not imported by ``solve``.)"""
    import warnings

    from .polynomial import CertifyUnavailable, PolynomialSyntaxError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            result = compute()
        for w in caught:
            click.echo(f"warning: {w.message}", err=True)
        if out:
            result.to_hdf5(out, force=force)
    except (PolynomialSyntaxError, CertifyUnavailable) as exc:
        raise UserError(str(exc)) from None
    except (ValueError, OSError, *errors) as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    return result


def _solve_parameters_cmd(system, parameter_names, targets, start_file, q0, seed, workers, out, force, as_json,
                          with_solutions, max_paths, progress, only_real, with_singular) -> None:
    """``pathtrack solve SYSTEM --parameters ... --targets FILE``: a parameter homotopy to every target."""
    from .io import StorageError
    from .polynomial import as_parametrized, read_targets, solve_parameters
    from .polynomial.parameter import parse_complex

    def compute():
        psys = as_parametrized(system, parameter_names)
        values = read_targets(targets, psys.parameters)
        start_q0 = None
        if q0 is not None:
            fields = [f for f in q0.split(",") if f.strip()]
            start_q0 = psys.check_parameters([parse_complex(f, "--q0") for f in fields], "--q0")
        return solve_parameters(psys, values, start_solutions=start_file, q0=start_q0, seed=seed, workers=workers,
                                progress=progress, only_real=only_real, only_nonsingular=not with_singular,
                                max_paths=max_paths)

    result = _compute_and_write(compute, out, force, errors=(StorageError,))
    if as_json:
        summary = result.summary()
        if with_solutions:
            summary["solutions"] = [[[[float(z.real), float(z.imag)] for z in row] for row in
                                     result.solutions(i).astype(complex)] for i in range(result.n_targets)]
        click.echo(_dumps(summary))
    else:
        _print_parameter_summary(result, with_solutions, out)
    if any(r.n_interrupted for r in result.results):
        sys.exit(130)
    if not result.is_complete:
        sys.exit(1)


def _print_parameter_summary(result, with_solutions: bool, out) -> None:
    """Text summary of a ParameterSolveResult: the start, then counts over the targets."""
    import numpy as np

    psys = result.system
    click.echo(f"system      {psys.name} ({psys.n_variables} unknowns {', '.join(psys.variables)}; parameters "
               f"{', '.join(psys.parameters)})")
    start = (f"solve at a random q0: {result.start_result.n_paths} paths" if result.start_result is not None
             else "given")
    click.echo(f"start       {len(result.start_solutions)} solutions ({start})")
    click.echo(f"targets     {result.n_targets}, {result.counters['n_paths']} paths")
    kept = "real " if result.only_real else ""
    kept += "regular" if result.only_nonsingular else "regular and singular"
    counts = result.counts()
    values, freq = np.unique(counts, return_counts=True) if len(counts) else ([], [])
    click.echo(f"solutions   {kept} per target: " + ", ".join(f"{v} at {f} target(s)" for v, f in zip(values, freq)))
    failed = {i: f"{r.n_failed} failed" for i, r in enumerate(result.results) if r.n_failed}
    click.echo(f"failed      {sum(r.n_failed for r in result.results)} paths"
               + (f", at targets {_index_list(failed)}" if failed else ""))
    click.echo(f"wall time   {result.total_time:.3f} s")
    if with_solutions:
        names = psys.variables
        for i in range(result.n_targets):
            q = ", ".join(f"{p} = {complex(z).real:.15g}{complex(z).imag:+.15g}i"
                          for p, z in zip(psys.parameters, result.targets[i]))
            click.echo(f"target {i + 1}: {q}")
            for k, row in enumerate(result.solutions(i).astype(complex)):
                click.echo(f"  solution {k + 1}: " + ", ".join(f"{v} = {z.real:.15g}{z.imag:+.15g}i"
                                                             for v, z in zip(names, row)))
    if out:
        click.echo(f"written     {out}")
    if not result.is_complete:
        click.echo(f"INCOMPLETE: {result.message}", err=True)


def _index_list(items: Dict[int, str], limit: int = 20) -> str:
    """``3 (ds_too_small), 7 (...)``: the first ``limit`` paths and their status, then how many more."""
    shown = [f"{i} ({st})" for i, st in list(items.items())[:limit]]
    more = f", ... {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more



# --- inspect / plot (HDF5 files; pathtrack.io, pathtrack.plotting) ---------------------------------


def _open_file(path: str, any_kind: bool = False):
    """Open a path file (or, with ``any_kind``, any pathtrack file); storage problems become user errors."""
    from .io import StorageError, load, open_file

    try:
        return open_file(path) if any_kind else load(path)
    except (StorageError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None


@main.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect_cmd(file: str, as_json: bool) -> None:
    """Describe a file written by pathtrack: a path (also while it is being written), a diagram, a solve or a
    training run."""
    from .io import DiagramFile, PathFile, StorageError

    with _open_file(file, any_kind=True) as f:
        try:
            info = f.summary()
        except StorageError as exc:
            raise UserError(str(exc)) from None
    if as_json:
        click.echo(_dumps(info))
    elif isinstance(f, PathFile):
        _print_path_info(info)
    elif isinstance(f, DiagramFile):
        _print_diagram_info(info)
    else:
        _print_result_info(info)


def _print_result_info(info: dict) -> None:
    """The text form of ``inspect`` for a solve or training file: the header, then its own fields."""
    click.echo(f"file      {info['file']} ({info['format']} v{info['schema_version']}"
               + (f", pathtrack {info['pathtrack_version']})" if info["pathtrack_version"] else ")"))
    click.echo(f"kind      {info['kind']}")
    click.echo(f"status    {info['status']}" + (f": {info['message']}" if info["message"] else ""))
    if info["created"]:
        click.echo(f"created   {info['created']}" + (f", finished {info['finished']}" if info["finished"] else ""))
    if info["wall_time"] is not None:
        click.echo(f"wall time {_num(info['wall_time'], '.3f')} s")
    if info["counters"]:
        click.echo("counters  " + ", ".join(f"{k}={v}" for k, v in info["counters"].items()))
    skip = {"file", "format", "schema_version", "pathtrack_version", "kind", "status", "message", "created",
            "finished", "wall_time", "counters"}
    for key, value in info.items():
        if key not in skip:
            click.echo(f"{key:<9} {_dumps(value)}")


def _print_problem_file_head(info: dict) -> None:
    """The first lines of ``inspect`` for a file of one problem (a path or a diagram)."""
    params = ", ".join(f"{k}={v}" for k, v in info["parameters"].items()) or "(none)"
    click.echo(f"file      {info['file']} ({info['format']} v{info['schema_version']}, "
               f"pathtrack {info['pathtrack_version']})")
    click.echo(f"kind      {info['kind']}")
    click.echo(f"problem   {info['problem']} ({params})")


#: Keys of an event's dict that are not normal-form coefficients.
_EVENT_KEYS = {"kind", "lam", "s", "step", "value_a", "value_b", "branch", "event"}


def _normal_form_text(event: dict) -> str:
    """An event's normal-form coefficients (``l1``, ``a``, ``b`` ...) as ``  key=value ...``, or ``''``."""
    extra = {k: v for k, v in event.items() if k not in _EVENT_KEYS}
    return "".join(f"  {k}={_num(v, '.10g') if isinstance(v, float) else v}" for k, v in extra.items())


def _print_diagram_info(info: dict) -> None:
    _print_problem_file_head(info)
    click.echo(f"status    {info['status']}: {info['message']}")
    click.echo(f"branches  {info['n_branches']} stored, {info['n_pending']} pending (depth {info['depth']})")
    click.echo(f"tree      {'branch':>6} {'parent':>6} {'depth':>5} {'status':<16} {'steps':>6}  lambda")
    for b in info["branches"]:
        click.echo(f"          {b['branch']:>6} {b['parent']:>6} {b['depth']:>5} {b['status']:<16} "
                   f"{b['n_accepted']:>6}  {_num(b['lam_start'])} -> {_num(b['lam_end'])}  {' '.join(b['events'])}")
    for u in info["unswitched"]:
        click.echo(f"unswitched lam = {_num(u['lam'], '.10g')}: {u['reason']}")
    for e in info.get("points", []):
        click.echo(f"point     branch {e['branch']} event {e['event']}: {e['kind']} at lam = {e['lam']:.12g}"
                   + _normal_form_text(e))
    for c in info.get("curves", []):
        pts = " ".join(f"{e['kind']} {e['lam']:.10g}" + _normal_form_text(e).replace("  ", " ")
                       for e in c["events"] if e["kind"] not in ("fold", "bp", "hopf"))
        click.echo(f"curve     {c['curve']} {c['curve_kind']} in {c['par2']} from branch {c['parent_branch']} event "
                   f"{c['parent_event']}: {c['status']}, {c['n_accepted']} steps, {c['par2']} "
                   f"{_num(c['par2_start'])} -> {_num(c['par2_end'])}" + (f"; {pts}" if pts else ""))
    for c in info.get("cycles", []):
        pts = " ".join(f"{e['kind']} {e['lam']:.10g}" for e in c["special_points"])
        click.echo(f"cycles    {c['cycle']} from branch {c['parent_branch']} event {c['parent_event']} (hopf at lam = "
                   f"{_num(c['hopf_lam'], '.10g')}): {c['status']}"
                   + (f" ({c['end_reason']})" if c["end_reason"] else "")
                   + f", {c['n_orbits']} orbits, lam -> {_num(c['lam_end'])}, period -> {_num(c['period_end'])}"
                   + (f"; {pts}" if pts else ""))


def _print_path_info(info: dict) -> None:
    _print_problem_file_head(info)
    end = f" ({info['end_reason']})" if info["end_reason"] else ""
    click.echo(f"status    {info['status']}{end}; {info['state']}")
    click.echo(f"created   {info['created']}" + (f", finished {info['finished']}" if info["finished"] else ""))
    if info.get("last_checkpoint_age_s") is not None:
        click.echo(f"checkpt   last written {info['last_checkpoint_age_s']:.1f} s ago")
    reasons = ", ".join(f"{k}: {v}" for k, v in info["rejected_reasons"].items())
    click.echo(f"steps     {info['n_accepted']} accepted, {info['n_rejected']} rejected"
               + (f" ({reasons})" if reasons else "") + f"; p stored at {info['p_rows']} steps")
    if info["lam_start"] is not None:
        click.echo(f"lambda    {info['lam_start']:.6g} -> {info['lam_end']:.6g} "
                   f"(range [{info['lam_min']:.6g}, {info['lam_max']:.6g}]), arclength {info['s_end']:.6g}")
    timing = f"{info['step_time_total']:.3f} s in steps"
    if info["step_time_mean"] is not None:
        timing += f", {1e3 * info['step_time_mean']:.2f} ms per accepted step"
    if info["wall_time"] is not None:
        timing += f"; tracker wall time {info['wall_time']:.3f} s"
    click.echo(f"timing    {timing}")
    if info["metrics"]:
        click.echo(f"metrics   {', '.join(info['metrics'])}")
    if info["events"]:
        click.echo(f"events    {'kind':<10} {'lambda':>18} {'s':>12} {'step':>6}")
        for e in info["events"]:
            click.echo(f"          {e['kind']:<10} {e['lam']:>18.12g} {e['s']:>12.6g} {e['step']:>6d}"
                       + _normal_form_text(e))
    else:
        click.echo("events    (none)")
    for name, why in (info.get("diagnostics_off") or {}).items():
        click.echo(f"off       {name}: {why}")


@main.command("plot")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["branch", "steps", "diagnostics", "metrics", "diagram", "orbits", "cycles",
                                           "twoparam"]),
              default=None,
              help="Which figure (default: branch for a path file, diagram for a diagram file, cycles for a "
                   "cycle-branch file, twoparam for a fold or Hopf curve; orbits: the orbits of a cycle branch in "
                   "phase space).")
@click.option("--curve", "curves", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="twoparam: another fold or Hopf curve file drawn in the same plane (repeatable).")
@click.option("--y", "y", default=None, metavar="NAME",
              help="branch: 'norm' (default), 'p[i]' or a metric; metrics: one metric; orbits: 'i,j'; diagram: "
                   "also 'l2', 'max', 'amplitude' or 'period' of its cycle branches.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output image (default FILE.<kind>.png).")
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True)
def plot_cmd(file: str, kind, y, out, dpi: int, curves) -> None:
    """Plot a path file (branch, steps, diagnostics, metrics), a diagram file (diagram; orbits of its cycle
    branches) or a cycle branch (orbits, cycles, diagram)."""
    import os

    from .io import StorageError
    from .plotting import plot_file

    if out is not None:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        ext = os.path.splitext(out)[1].lstrip(".").lower()
        if ext not in formats:
            raise UserError(f"--out {out}: unsupported image type {('.' + ext) if ext else '(no extension)'}; "
                            f"use one of {', '.join('.' + e for e in sorted(formats))}")
    from .io import CyclesFile, DiagramFile

    f = _open_file(file, any_kind=True)  # a bad file is a one-line error before matplotlib starts
    f.close()
    for extra in curves:
        _open_file(extra, any_kind=True).close()
    if kind is None:
        from .plotting import curve_kind

        kind = ("diagram" if isinstance(f, DiagramFile) else "cycles" if isinstance(f, CyclesFile) else
                "twoparam" if curve_kind(f) else "branch")
    try:
        written = plot_file(file, kind, y, out, dpi=dpi, curves=curves)
    except StorageError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # the output image could not be written (the input was opened above)
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"written   {written}")


if __name__ == "__main__":  # pragma: no cover
    main()
