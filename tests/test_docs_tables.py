"""The fast tables in docs/ re-run from their commands and match the committed numbers.

Each test parses a Markdown table out of a doc, re-runs the command that produced it (or a
reduced version: one row, one seed) and compares. Counts, indices and statuses must match
exactly; floats must match to the digits the doc prints (the tolerance is half a unit in the
last printed digit, stated per test). So an edit of the doc's numbers, or an engine change
that moves a result, fails here instead of leaving a stale table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List

import pytest
import numpy as np
from threadpoolctl import threadpool_limits

from _scripts import ROOT, load_script

DOCS = ROOT / "docs"


def markdown_table(doc: str, header_start: str) -> List[Dict[str, str]]:
    """The rows of the table in ``docs/doc`` whose header line starts with ``header_start``, as dicts."""
    lines = (DOCS / doc).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))

    def cells(line):
        return [c.strip() for c in line.strip().strip("|").split("|")]

    names = cells(lines[start])
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, cells(line))))
    assert rows, f"no rows under {header_start!r} in {doc}"
    return rows


def numbers(text: str) -> List[float]:
    """The decimal numbers in ``text`` (Unicode minus read as minus)."""
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text.replace("−", "-"))]


def signed_decimals(text: str) -> List[str]:
    """The decimals in ``text`` as printed, with their signs: "0.661 − 0.251 (x + 1)" and
    "0.661000 + -0.251000(x+1)" both give 0.661 and -0.251."""
    return [m.replace(" ", "") for m in re.findall(r"-\s?\d+\.\d+|\d+\.\d+", text.replace("−", "-"))]


def half_unit(text: str) -> float:
    """Half a unit in the last printed digit of the number ``text`` ("0.56", "6.27e4", "6.6e-5"):
    the rounding tolerance."""
    mantissa, _, exponent = text.lower().partition("e")
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (int(exponent or 0) - digits)


def close_to_printed(value: float, text: str) -> bool:
    """``value`` rounds to the number printed as ``text`` (slack 1e-9 for a value on the rounding edge)."""
    return abs(value - float(text)) <= half_unit(text) * (1 + 1e-9)


# --- docs/flows.md: the relu1d critical points (docs/examples/relu1d_critical_points.py) ----------

@pytest.fixture(scope="module")
def relu1d_runs():
    """``find_critical_points`` as the example runs it (60 flows, 200 Newton starts) for seeds 0, 1, 2."""
    from pathtrack_problems.relu1d import ReLU1D
    from pathtrack_problems.relu1d.critical import find_critical_points

    pb = ReLU1D(width=1, target="zigzag")
    with threadpool_limits(limits=1, user_api="blas"):  # as the example runs; the matrices are tiny
        return [find_critical_points(pb, n_starts=60, newton_starts=200, seed=seed) for seed in range(3)]


@pytest.mark.slow
def test_relu1d_critical_point_table(relu1d_runs):
    """Risks to the 8 printed digits (tolerance 5e-9), realisation parameters to the printed digits,
    Hessian indices, nullities and seed 0's hit counts exactly; every seed finds the same classes."""
    rows = markdown_table("flows.md", "| # | risk |")
    for classes in relu1d_runs:
        assert len(classes) == len(rows)
        for row, cls in zip(rows, classes):
            assert close_to_printed(cls.risk, row["risk"])
    classes = relu1d_runs[0]
    for row, cls in zip(rows, classes):
        assert sorted(cls.indices) == numbers(row["Hessian index"])
        assert sorted({cp.nullity for cp in cls.points}) == numbers(row["nullity"])
        n_flow = sum(cp.source == "flow" for cp in cls.points)
        assert (n_flow, cls.count - n_flow) == (int(row["flow hits"]), int(row["Newton hits"]))
        doc_text = row["realisation"].split("(neuron")[0].split("(=")[0]
        assert cls.description.split()[0] == doc_text.split()[0]  # hinge / affine / constant
        doc_params, got = signed_decimals(doc_text), signed_decimals(cls.description)
        assert len(got) == len(doc_params)
        for text, value in zip(doc_params, got):
            assert close_to_printed(float(value), text)


@pytest.mark.slow
def test_relu1d_saturation_table(relu1d_runs):
    """Distinct realisations among the first k starts, exactly, for every seed and k."""
    example = load_script("docs/examples/relu1d_critical_points.py")
    for row in markdown_table("flows.md", "| seed | k = 5 |"):
        checkpoints = {int(name.split("=")[1]): name for name in row if name.startswith("k =")}
        got = example.saturation(relu1d_runs[int(row["seed"])], sorted(checkpoints))
        assert {k: int(row[name]) for k, name in checkpoints.items()} == got


@pytest.mark.slow
def test_relu1d_flow_rate_table():
    """The gradient-flow rate rows: every number to its printed digits (half a unit in the last digit);
    "window empty" where the power fit has no window."""
    example = load_script("docs/examples/relu1d_critical_points.py")
    rows = {r["width, seed"]: r for r in markdown_table("flows.md", "| width, seed | t_final |")}
    with threadpool_limits(limits=1, user_api="blas"):
        flows = list(example.rate_flows("zigzag"))
    assert sorted(rows) == sorted(f"{width}, {seed}" for width, seed, _, _ in flows)
    for width, seed, _, r in flows:
        row = rows[f"{width}, {seed}"]
        fe, fp = r.rate("exp"), r.rate("power")
        eigs = np.abs(r.hessian_eigs)
        rate, r2 = row["exp-fit rate (R²)"].replace("(", "").replace(")", "").split()
        checks = [(r.t[-1], row["t_final"]), (r.risk_final, row["L_final"]), (fe.rate, rate), (fe.r2, r2),
                  (2 * eigs[eigs > 1e-7].min(), row["2 μ_min (non-zero Hessian eig.)"]),
                  (np.max(r.t * r.excess_risk()), row["max_t t·(L − L_final)"])]
        if row["power fit"] == "window empty":
            assert np.isnan(fp.rate)
        else:
            rate, r2 = row["power fit"].replace("(", "").replace(")", "").split()
            checks += [(fp.rate, rate), (fp.r2, r2)]
        for value, text in checks:
            assert close_to_printed(value, text), (width, seed, value, text)


# --- docs/hta.md: the paper's Table 1, row n = 2 (benchmarks/bench_hta.py --rows 2) ----------------

@pytest.mark.slow
def test_hta_table_row_n2():
    """Counts and failed paths exactly; HTA jumps per start to the 2 printed decimals (tolerance 0.005)."""
    bench = load_script("benchmarks/bench_hta.py")
    row = next(r for r in markdown_table("hta.md", "| n | starts | paper: homotopy |") if r["n"] == "2")
    got = bench.measure_row(2, workers=1)
    assert got["starts"] == int(row["starts"])
    assert bench.PAPER[2] == (int(row["paper: homotopy"]), int(row["paper: quasi-Newton"]))
    assert got["hta"]["global"] == numbers(row["pathtrack HTA"])[0]
    assert got["bfgs"]["global"] == numbers(row["scipy BFGS"])[0]
    assert got["hta"]["failed_paths"] == int(row["HTA failed paths"])
    jumps = row["HTA jumps/start"]
    assert close_to_printed(got["hta"]["jumps_per_start"], jumps)


# --- docs/solving_systems.md: the PHCpack demo table, row comb3000 (benchmarks/bench_phc_demos.py) --

def test_phc_demo_table_row_comb3000():
    """pathtrack's columns of the comb3000 row, exactly (the system ships in tests/data; phc's columns
    need PHCpack and are not re-run)."""
    from pathtrack.polynomial import SolveOptions, read_phc, solve

    bench = load_script("benchmarks/bench_phc_demos.py")
    row = next(r for r in markdown_table("solving_systems.md", "| system | n | total degree | phc finite |")
               if r["system"] == "comb3000")
    system = read_phc(str(ROOT / "tests" / "data" / "comb3000.phc"))
    raw = solve(system, seed=0, options=SolveOptions(scaling=False))
    res = solve(system, seed=0)
    assert (system.n_variables, system.bezout_number) == (int(row["n"]), int(row["total degree"]))
    assert bench.cell(raw) == row["pathtrack unscaled"]
    assert bench.cell(res) + (" (scaled)" if res.scaling is not None else "") == row["pathtrack default"]
    assert (res.n_at_infinity, res.n_failed) == (int(row["at infinity"]), int(row["failed"]))


# --- docs/flows.md: degenerate limits at widths 2-4 (docs/examples/relu1d_flow_rates.py) ----------------

def _value_and_r2(cell: str):
    value, r2 = cell.replace("(", "").replace(")", "").split()
    return value, r2


@pytest.mark.parametrize("key", ["2, 4", "2, 24", "3, 2"])
def test_relu1d_degenerate_flow_rows(key):
    """Three rows of the degenerate-limit table, re-run: verdicts and nullities exactly, every other number to
    its printed digits; the two L∞ estimates to 1e-14 (their printed difference is rounding noise)."""
    example = load_script("docs/examples/relu1d_flow_rates.py")
    table = markdown_table("flows.md", "| width, seed | t_final | L∞ (Newton)")
    row = next(r for r in table if r["width, seed"] == key)
    width, seed = (int(x) for x in key.split(","))
    with threadpool_limits(limits=1, user_api="blas"):
        got = example.flow_row(width, seed)
    assert got["status"] == "success" and got["degenerate"]
    assert ("yes" if got["merged"] else "no") == row["merged"]
    assert f"{got['nullity_hessian']} / {got['nullity_gauss_newton']}" == row["nullity H / GN"]
    assert abs(got["L_inf_lstsq"] - got["L_inf"]) <= 1e-14
    lo, hi = row["late window"].split(" – ")
    beta, beta_r2 = _value_and_r2(row["β (R²)"])
    checks = [(got["t_final"], row["t_final"]), (got["L_inf"], row["L∞ (Newton)"]), (got["window"][0], lo),
              (got["window"][1], hi), (got["beta"], beta), (got["beta_r2"], beta_r2),
              (got["exp_r2"], row["exp R²"]),
              (got["late_max"], row["max late (1+t)(L − L∞)"]), (got["late_end"], row["at t_end"])]
    for value, text in checks:
        assert close_to_printed(value, text), (key, value, text)


@pytest.mark.slow
def test_relu1d_degenerate_summary_table():
    """The per-width summary, all 90 flows (about 70 s CPU): counts exactly, β and (1+t)(L − L∞) to the
    printed digits."""
    example = load_script("docs/examples/relu1d_flow_rates.py")
    with threadpool_limits(limits=1, user_api="blas"):
        rows = example.run((2, 3, 4), range(30))
    want = markdown_table("flows.md", "| width | starts | converged | degenerate |")
    got = example.summary_table(rows).splitlines()[2:]
    assert [r.strip() for r in got] == ["| " + " | ".join(r.values()) + " |" for r in want]


# --- docs/flows.md: the curve of local minima (docs/examples/relu1d_continuum.py) ---------------------

def test_relu1d_continuum_curve_row():
    """The tracked curve's row: point count and zero-eigenvalue count exactly, risks and distances to the
    printed digits; gradients, negative eigenvalues and distances from the closed form below the printed
    orders of magnitude (they are rounding noise)."""
    example = load_script("docs/examples/relu1d_continuum.py")
    row = markdown_table("flows.md", "| path points | λ range |")[0]
    with threadpool_limits(limits=1, user_api="blas"):
        _, rows = example.follow_curve()
    assert len(rows) == int(row["path points"])
    lo, hi = row["λ range"].split(" – ")
    assert close_to_printed(rows[0]["lam"], lo) and close_to_printed(rows[-1]["lam"], hi)
    rmin, rmax = row["risk (min – max)"].split(" – ")
    risks = [r["risk"] for r in rows]
    assert close_to_printed(min(risks), rmin) and close_to_printed(max(risks), rmax)
    assert sorted({r["n_zero"] for r in rows}) == numbers(row["zero eig. per point"])
    assert close_to_printed(min(r["min_pos"] for r in rows), row["smallest positive eig."])
    sup_dist = max(r["sup_dist_first"] for r in rows)
    assert close_to_printed(sup_dist, row["max sup-norm distance of N_λ from N_0.1"])
    assert max(r["grad"] for r in rows) < 10 * float(row["max ‖∇L‖ (all 7 parameters)"])
    assert min(r["min_eig"] for r in rows) > -10 * abs(float(row["min Hessian eig."].replace("−", "-")))
    assert max(r["dist_closed_form"] for r in rows) < 10 * float(row["max distance from closed form"])


# --- docs/flows.md: Finnoff redone (docs/examples/finnoff_compare.py --study stuck / sde) ---------------

@pytest.mark.slow
def test_finnoff_stuck_seed_rows():
    """One (generator, seed) of the stuck study re-run: gradient counts and verdicts exactly, MSEs, gradient
    norms and eigenvalue ratios to their printed digits."""
    example = load_script("docs/examples/finnoff_compare.py")
    rows = markdown_table("flows.md", "| method (one seed) |")
    with threadpool_limits(limits=1, user_api="blas"):
        got = example.stuck_study(["product"], [0])
    assert [r["method"] for r in got] == [r["method (one seed)"] for r in rows]
    for r, row in zip(got, rows):
        assert f"{r['grad_evals']:.0f}" == row["grad evals"] and r["verdict"] == row["verdict"]
        for value, text in ((r["train_mse"], row["train MSE"]), (r["test_mse"], row["test MSE"]),
                            (r["grad_norm"], row["‖∇L‖₂"]),
                            (r["eig_min"] / r["eig_max"], row["min eig. / max eig."].replace("−", "-"))):
            assert close_to_printed(value, text), (r["method"], value, text)


@pytest.mark.slow
def test_finnoff_sde_table():
    """The SGD-against-diffusion table re-run (about 10 s CPU): every ratio to its printed digits."""
    example = load_script("docs/examples/finnoff_compare.py")
    rows = markdown_table("flows.md", "| η | SGD steps to T |")
    with threadpool_limits(limits=1, user_api="blas"):
        got, _, _ = example.sde_study("product")
    assert [f"{r['eta']:g}" for r in got] == [row["η"] for row in rows]
    for r, row in zip(got, rows):
        assert r["steps"] == int(row["SGD steps to T"])
        for value, text in ((r["mean_dev"], row["‖mean p_SGD − p(T)‖"]),
                            (r["bias"] / r["eta"], row["bias (noise removed) / η"]),
                            (r["rms_dev"] / np.sqrt(r["eta"]), row["RMS ‖p_SGD − p(T)‖ / √η"]),
                            (r["trace_ratio"], row["tr Cov / (η tr Σ(T))"]),
                            (r["top_ratio"], row["top direction: Var / (η σ²)"])):
            assert close_to_printed(value, text), (r["eta"], value, text)
