"""Command-line interface (click).

Every command validates its arguments and turns user mistakes (unknown problem, bad
``--set`` value, unreadable file) into a one-line error with exit status 2, never a
traceback. Commands use the public Python API only.
"""

from __future__ import annotations

import json
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
        except OptionsError as exc:
            raise UserError(f"--set {key}={text}: {exc}") from None
    return out


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
        click.echo(json.dumps(rows, indent=1))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['description']}")


@main.command("run")
@click.argument("problem")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Problem parameter (repeatable).")
@click.option("--option", "-o", "opts", multiple=True, metavar="KEY=VALUE", help="Tracker option (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the path to this HDF5 file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--resume", type=click.Path(dir_okay=False), default=None, help="Continue a run from its file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def run_cmd(problem: str, sets: Tuple[str, ...], opts: Tuple[str, ...], out, force, resume, as_json, progress):
    """Track the solution path of PROBLEM and print a summary."""
    from .driver import run_problem
    from .options import OptionsError
    from .problem import ProblemError, problem_parameters
    from .registry import UnknownProblemError, load_problem_class

    try:
        cls = load_problem_class(problem)
    except UnknownProblemError as exc:
        raise UserError(str(exc)) from None
    params = convert_parameters(problem_parameters(cls), parse_assignments(sets, "--set"), problem)
    option_texts = parse_assignments(opts, "--option")
    if progress is None:
        progress = sys.stderr.isatty() and not as_json
    try:
        summary = run_problem(problem, params, option_texts, out=out, force=force, resume=resume,
                              progress=progress)
    except (OptionsError, ProblemError, FileExistsError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None
    except _storage_errors() as exc:
        raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summary, default=_json_default))
    else:
        _print_summary(summary)
    if summary["status"] not in ("success", "event_terminated"):
        sys.exit(1)


def _storage_errors():
    try:
        from .hdf5 import StorageError
        return (StorageError,)
    except ImportError:  # storage layer not present
        return ()


def _json_default(o):
    import numpy as np
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _print_summary(summary: dict) -> None:
    click.echo(f"problem   {summary['problem']}")
    click.echo(f"status    {summary['status']}: {summary['message']}")
    click.echo(f"steps     {summary['n_accepted']} accepted, {summary['n_rejected']} rejected")
    click.echo(f"lambda    {summary['lam_start']:.6g} -> {summary['lam_end']:.6g}")
    click.echo(f"wall time {summary['wall_time']:.3f} s")
    if summary.get("metrics_end"):
        click.echo("metrics   " + ", ".join(f"{k}={v:.6g}" for k, v in summary["metrics_end"].items()))
    if summary.get("report"):
        click.echo("report    " + ", ".join(f"{k}={v:.6g}" for k, v in summary["report"].items()))
    for ev in summary.get("events", []):
        click.echo(f"event     {ev['kind']} at lam = {ev['lam']:.12g} (step {ev['step']})")
    if summary.get("out"):
        click.echo(f"written   {summary['out']}")


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
def train_cmd(dataset, hidden, activation, temperature, loss, epochs, optimizer, lr, momentum, batch_size, subset,
              seed, init, init_scale, dtype, data_dir, out, force, progress):
    """Train a fully connected network on DATASET with SGD or Adam; print PR per epoch."""
    import os

    from .datasets import DatasetError, load_idx_dataset
    from .nn import Network
    from .nn.train import save_result, train

    try:
        widths = [int(h) for h in hidden.split(",") if h.strip()]
    except ValueError:
        raise UserError(f"--hidden expects comma-separated integers, got {hidden!r}") from None
    if out and os.path.exists(out) and not force:
        raise UserError(f"{out} exists; use --force to overwrite it")
    try:
        data = load_idx_dataset(dataset, "train", data_dir=data_dir, dtype=dtype, subset=subset, seed=seed)
        test = load_idx_dataset(dataset, "test", data_dir=data_dir, dtype=dtype)
        net = Network([data.X.shape[1], *widths, data.n_classes], activation, temperature, dtype)
        result = train(net, data.X, data.y, optimizer=optimizer, lr=lr, epochs=epochs,
                       batch_size=batch_size or None, momentum=momentum, loss=loss, init=init,
                       init_scale=init_scale, seed=seed, X_test=test.X, y_test=test.y, progress=progress)
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


# --- solve (polynomial systems; pathtrack.solve) -------------------------------------------------


@main.command("solve")
@click.argument("system")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of gamma and the affine patch.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Threads (default: all cores).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write endpoints to this HDF5 file.")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@click.option("--solutions", "with_solutions", is_flag=True, help="Include the solutions in the output.")
def solve_cmd(system: str, seed: int, workers, out, force: bool, as_json: bool, with_solutions: bool):
    """Find all isolated solutions of SYSTEM (a PHCpack file or a family such as katsura:8)."""
    import os

    from problems.polynomial import PolynomialSyntaxError, is_family_spec

    from .solve import solve

    if out and os.path.exists(out) and not force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    if not is_family_spec(system) and not os.path.isfile(system):
        raise UserError(f"{system!r} is neither a file nor a family like katsura:8 "
                        "(families: katsura, cyclic, noon, eco, reimer, random:n:d[:seed])")
    try:
        result = solve(system, seed=seed, workers=workers)
        if out:
            result.to_hdf5(out, force=force)
    except PolynomialSyntaxError as exc:
        raise UserError(str(exc)) from None
    except (ValueError, OSError) as exc:
        raise UserError(str(exc).splitlines()[0]) from None
    if as_json:
        click.echo(json.dumps(result.summary(with_solutions), default=_json_default))
        return
    click.echo(f"system      {result.system.name} ({result.system.n_variables} unknowns, "
               f"degrees {result.system.degrees.tolist()})")
    click.echo(f"paths       {result.n_paths}")
    click.echo(f"regular     {result.n_regular}")
    click.echo(f"singular    {result.n_singular} (multiplicities {result.multiplicities.tolist()})")
    click.echo(f"at infinity {result.n_at_infinity}")
    click.echo(f"failed      {result.n_failed} {result.failures() or ''}")
    click.echo(f"wall time   {result.wall_time:.3f} s")
    if with_solutions:
        names = result.system.variables
        for k, row in enumerate(result.solutions):
            click.echo(f"solution {k + 1}: " + ", ".join(f"{v} = {z.real:.15g}{z.imag:+.15g}i" for v, z in zip(names, row)))
    if out:
        click.echo(f"written     {out}")



# --- inspect / plot (HDF5 files; pathtrack.hdf5, pathtrack.plotting) -------------------------------


def _open_path_file(path: str):
    """``pathtrack.hdf5.load`` with every storage problem turned into a one-line user error."""
    from .hdf5 import StorageError, load

    try:
        return load(path)
    except (StorageError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from None


@main.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect_cmd(file: str, as_json: bool) -> None:
    """Describe a path file written by `pathtrack run --out` (also while it is being written)."""
    from .hdf5 import StorageError

    with _open_path_file(file) as f:
        try:
            info = f.summary()
        except StorageError as exc:
            raise UserError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(info, default=_json_default))
        return
    params = ", ".join(f"{k}={v}" for k, v in info["parameters"].items()) or "(none)"
    click.echo(f"file      {info['file']} ({info['format']} v{info['schema_version']}, "
               f"pathtrack {info['pathtrack_version']})")
    click.echo(f"problem   {info['problem']} ({params})")
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
            click.echo(f"          {e['kind']:<10} {e['lam']:>18.12g} {e['s']:>12.6g} {e['step']:>6d}")
    else:
        click.echo("events    (none)")


@main.command("plot")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["branch", "steps", "diagnostics", "metrics"]), default="branch",
              show_default=True, help="Which figure.")
@click.option("--y", "y", default=None, metavar="NAME",
              help="branch: 'norm' (default), 'p[i]' or a metric; metrics: one metric.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Output image (default FILE.<kind>.png).")
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True)
def plot_cmd(file: str, kind: str, y, out, dpi: int) -> None:
    """Plot a path file: bifurcation diagram, steps, diagnostics or metrics."""
    from .hdf5 import StorageError
    from .plotting import plot_file

    _open_path_file(file).close()  # a bad file is a one-line error before matplotlib starts
    try:
        written = plot_file(file, kind, y, out, dpi=dpi)
    except StorageError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:  # the output image could not be written (the input was opened above)
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"written   {written}")



if __name__ == "__main__":  # pragma: no cover
    main()
