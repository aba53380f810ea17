"""Parameter homotopies: ParametrizedSystem, the compiled parameter kernel, track_parameters."""

import numpy as np
import pytest

from pathtrack.polynomial import (REGULAR, ParametrizedSystem, as_parametrized, parse_system, random_parameters,
                                  solve, solve_parameters, start_points, track_parameters)
from pathtrack.polynomial.kernels import track_parameter_batch
from pathtrack.polynomial.solver import SolveOptions
from pathtrack.status import Status


def _same_rows(a, b, tol=1e-8):
    """Every row of ``a`` matches a distinct row of ``b`` (and the counts agree)."""
    assert len(a) == len(b)
    d = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    assert (d.min(axis=1) < tol).all() and (d.min(axis=0) < tol).all()


def test_specialisation_and_packing_agree_with_the_joint_system():
    ps = as_parametrized("x^2*a + b*x*y - 3*a^2*y; y^2 - a*b + x", ["a", "b"])
    assert ps.variables == ("x", "y") and ps.parameters == ("a", "b") and ps.degrees.tolist() == [2, 2]
    rng = np.random.default_rng(0)
    x, q = rng.standard_normal(2) + 1j * rng.standard_normal(2), rng.standard_normal(2) + 0.5j
    value = dict(zip(("x", "y", "a", "b"), [*x, *q]))
    assert ps.joint.variables == ("x", "a", "b", "y")  # order of appearance
    joint = ps.joint.evaluate([value[v] for v in ps.joint.variables])
    np.testing.assert_allclose(ps.at(q).evaluate(x), joint, rtol=1e-13)
    # the packed form: coefficient polynomial k belongs to homogeneous monomial k
    from pathtrack.polynomial.kernels import eval_system_alloc

    pk = ps.packed()
    cval, _ = eval_system_alloc(q, *pk.coefficients.arrays(), pk.coefficients.max_exp)
    val, _ = eval_system_alloc(np.r_[1.0, x], cval, *pk.monomials, pk.max_exp)
    np.testing.assert_allclose(val, joint, rtol=1e-13)
    assert ps.affine_in_parameters() is False
    assert as_parametrized("x - a; y^2 - b*x", ["a", "b"]).affine_in_parameters() is True


@pytest.mark.parametrize("q1", [2.0 + 1.0j, -3.0, 0.25j])
def test_square_roots_tracked_to_each_target(q1):
    q0 = 1.0 + 0.5j  # complex: the segment to a real target misses the branch point q = 0
    s = np.sqrt(q0)
    res = track_parameters("x^2 - q;", [[s], [-s]], [q0], [q1], parameters=["q"], workers=1)
    r = np.sqrt(complex(q1))
    assert res.status == Status.success and res.n_regular == 2
    _same_rows(res.solutions, np.array([[r], [-r]]))


def test_segment_through_a_branch_point_fails_with_a_status():
    # q from 1 to -3 along the reals passes q = 0, where the two roots meet: the paths fail
    # (re-tracked, still failing) instead of returning wrong roots
    res = track_parameters("x^2 - q;", [[1.0], [-1.0]], [1.0], [-3.0], parameters=["q"], workers=1)
    assert res.n_regular + res.n_failed == 2 and res.n_failed > 0 and not res.is_complete
    assert res.status.is_failure


def test_two_by_two_closed_form():
    # x^2 + y^2 = a, x = b·y: y = ±sqrt(a / (1 + b^2)), x = b·y
    ps = as_parametrized("x^2 + y^2 - a; x - b*y", "a, b")
    q0 = random_parameters(2, seed=1)
    start = solve(ps.at(q0), workers=1)
    assert start.n_regular == 2
    for q1 in ([5.0, 2.0], [1.0 + 1j, -0.5], [-2.0, 3.0j]):
        res = track_parameters(ps, start, q0, q1, workers=1)
        a, b = complex(q1[0]), complex(q1[1])
        y = np.sqrt(a / (1 + b * b))
        _same_rows(res.solutions, np.array([[b * y, y], [-b * y, -y]]))


def test_start_at_q0_zero_binomial_system():
    # A polyhedral-style homotopy with one parameter t: the terms without t form a binomial system
    # (x^2 = 2, y^3 = 5), solved in closed form; the others carry powers of t and random complex
    # coefficients (so no two paths meet for real t). q0 = 0 -> q1 = 1.
    ps = as_parametrized("x^2 - 2 + t*((0.7+0.3*i)*x*y + (1.1-0.8*i)*y);"
                         "y^3 - 5 + t^2*((0.4+1.2*i)*x + (-0.6+0.5*i)*x*y^2) - (0.9+0.2*i)*t*x*y", ["t"])
    starts = np.array([[s * np.sqrt(2), 5 ** (1 / 3) * np.exp(2j * np.pi * k / 3)] for s in (1, -1)
                       for k in range(3)])
    assert np.abs([ps.at([0.0]).evaluate(x) for x in starts]).max() < 1e-12
    res = track_parameters(ps, starts, [0.0], [1.0], workers=1)
    target = ps.at([1.0])
    fresh = solve(target, seed=2, workers=1)
    assert res.n_failed == 0 and res.n_regular == fresh.n_regular
    _same_rows(res.solutions, fresh.solutions, tol=1e-7)
    assert np.sum(res.path_kind == REGULAR) + res.n_at_infinity == 6


def test_kernel_tracks_each_row_to_its_own_target():
    ps = as_parametrized("x^2 - q;", ["q"])
    pk, coef = ps.packed(), ps.packed().coefficients
    patch = np.array([0.6 + 0.2j, 0.3 - 0.7j])
    r = np.sqrt(1j)
    starts = np.array([[1.0, r], [1.0, -r], [1.0, r]], dtype=complex)
    starts /= (starts @ patch)[:, None]
    Q0 = np.full((3, 1), 1j)
    # segments from q = i in the closed upper half plane: the principal square root continues along them
    Q1 = np.array([[4.0], [9.0], [-1.0]], dtype=complex)
    ends, codes, *_ = track_parameter_batch(starts, Q0, Q1, pk.monomials, coef.arrays(), coef.max_exp, patch,
                                            SolveOptions().to_array(), pk.max_exp)
    assert (codes == int(Status.success)).all()
    np.testing.assert_allclose(ends[:, 1] / ends[:, 0], [2.0, -3.0, 1j], atol=1e-10)


def test_bad_parameters_and_starts_name_the_input():
    ps = as_parametrized("x^2 - q;", ["q"])
    with pytest.raises(ValueError, match="q1: expected 1 value"):
        track_parameters(ps, [[1.0]], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="q0: parameters must be finite"):
        track_parameters(ps, [[1.0]], [np.nan], [1.0])
    with pytest.raises(ValueError, match="1 coordinates"):
        start_points(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="not finite"):
        start_points([[np.nan]], 1)
    with pytest.raises(ValueError, match="do not occur"):
        as_parametrized("x^2 - q;", ["p"])
    with pytest.raises(ValueError, match="name the parameters"):
        as_parametrized("x^2 - q;")
    with pytest.raises(ValueError, match=r"start solution\(s\) \[1\] do not solve"):
        track_parameters(ps, [[1.0], [0.5]], [1.0], [2.0])
    with pytest.raises(ValueError, match="square"):
        track_parameters("x^2 - q*y;", [[1.0, 1.0]], [1.0], [2.0], parameters=["q"])
    assert isinstance(ParametrizedSystem(parse_system("x - a"), ("a",)), ParametrizedSystem)


# -- solve_parameters ---------------------------------------------------------------------------------
def test_solve_parameters_counts_equal_fresh_solves_at_random_targets():
    # generic members of a family: tracking the 12 solutions at a random q0 to each target finds as
    # many solutions as a total-degree solve of that target, and the same ones
    ps = as_parametrized("x^2 + y^2 + z^2 - a; x*y + y*z + z*x - b; x^3 + y*z - c", "a,b,c")
    rng = np.random.default_rng(5)
    targets = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    res = solve_parameters(ps, targets, seed=3, workers=2)
    assert res.start_result is not None and res.start_result.n_regular == 12
    assert res.status == Status.success and res.n_targets == 4 and res.counters["n_paths"] == 48
    for i, q in enumerate(targets):
        fresh = solve(ps.at(q), seed=i, workers=1)
        assert res[i].n_regular == fresh.n_regular == 12
        _same_rows(res.solutions(i), fresh.solutions, tol=1e-7)


def test_solve_parameters_closed_form_filters_and_reuse_of_the_start(tmp_path):
    ps = as_parametrized("x^2 + y^2 - a; x - b*y", ["a", "b"])
    targets = [[5.0, 2.0], [1.0, 1j], [-1.0, 3.0], [2.0, 0.0]]
    res = solve_parameters(ps, targets, seed=1, workers=1, only_real=True)
    # x^2 + y^2 = a, x = b·y: real solutions when a/(1 + b^2) > 0; none at all when b^2 = -1
    assert res.counts().tolist() == [2, 0, 0, 2]
    assert res.counts(only_real=False).tolist() == [2, 0, 2, 2]
    assert res.solutions(0).dtype == float
    _same_rows(res.solutions(0), np.array([[2.0, 1.0], [-2.0, -1.0]]))
    y = np.sqrt(-1 / 10 + 0j)
    _same_rows(res.solutions(2, only_real=False), np.array([[3 * y, y], [-3 * y, -y]]))
    assert res[1].n_at_infinity == 2 and res.is_complete
    path = tmp_path / "p.h5"
    res.to_hdf5(str(path))
    from pathtrack.io import open_file

    f = open_file(str(path))
    np.testing.assert_array_equal(f.q0, res.q0)
    assert f.data["solutions/points"].shape == (4, 2) and f.data["solutions/target"].tolist() == [0, 0, 3, 3]
    assert f.data["paths/endpoints"].shape == (8, 3) and f.data["targets/n_regular"].tolist() == [2, 0, 2, 2]
    # the file is a start for another run: q0 and the start solutions come from it
    again = solve_parameters(ps, [[4.0, 0.0]], start_solutions=str(path), workers=1)
    np.testing.assert_array_equal(again.q0, res.q0)
    _same_rows(again.solutions(0), np.array([[0.0, 2.0], [0.0, -2.0]]))
    # and so is a solve file, with q0 given
    start = solve(ps.at(res.q0), seed=4, workers=1)
    start.to_hdf5(str(tmp_path / "s.h5"))
    via_solve = solve_parameters(ps, [[4.0, 0.0]], start_solutions=str(tmp_path / "s.h5"), q0=res.q0, workers=1)
    _same_rows(via_solve.solutions(0), again.solutions(0))


def test_solve_parameters_on_an_executor_matches_threads():
    from concurrent.futures import ThreadPoolExecutor

    ps = as_parametrized("x^3 - a*x + b;", ["a", "b"])
    targets = np.array([[3.0, 1.0], [1.0, 2.0], [-2.0, 0.5j]])
    local = solve_parameters(ps, targets, seed=2, workers=2)
    with ThreadPoolExecutor(2) as ex:
        remote = solve_parameters(ps, targets, seed=2, executor=ex)
    for a, b, q in zip(local.results, remote.results, targets):
        np.testing.assert_array_equal(a.path_endpoints, b.path_endpoints)
        roots = np.roots([1, 0, -q[0], q[1]])
        _same_rows(a.solutions, roots[:, None])


def test_read_targets_header_order_and_errors(tmp_path):
    from pathtrack.polynomial import read_targets

    f = tmp_path / "t.csv"
    f.write_text("# targets\nb, a\n1, 2\n\n3i 1+2j\n")
    np.testing.assert_array_equal(read_targets(f, ["a", "b"]), [[2, 1], [1 + 2j, 3j]])
    f.write_text("1 2\n3\n")
    with pytest.raises(ValueError, match="line 2: expected 2 value"):
        read_targets(f, ["a", "b"])
    f.write_text("1 inf\n")
    with pytest.raises(ValueError, match="line 1: 'inf' is not finite"):
        read_targets(f, ["a", "b"])
    f.write_text("1 x\n")
    with pytest.raises(ValueError, match="'x' is not a number"):
        read_targets(f, ["a", "b"])


# -- command line -------------------------------------------------------------------------------------
def test_cli_parameter_homotopy_json_hdf5_and_inspect(tmp_path):
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main

    system = tmp_path / "circle.phc"
    system.write_text("2 4\n x^2 + y^2 - a;\n x - b*y;\n")  # 2 equations; 2 unknowns and 2 parameters
    targets = tmp_path / "q.csv"
    targets.write_text("5, 2\n1+1j, 0.5\n-1, 3\n")
    out = tmp_path / "r.h5"
    runner = CliRunner()
    r = runner.invoke(main, ["solve", str(system), "--parameters", "a,b", "--targets", str(targets), "--out",
                             str(out), "--workers", "1", "--json", "--only-real"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["n_targets"] == 3 and s["n_regular"] == [2, 2, 2] and s["n_real"] == [2, 0, 0]
    r = runner.invoke(main, ["inspect", str(out), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["kind"] == "parameter homotopy"
    r = runner.invoke(main, ["solve", str(system), "--parameters", "a,b", "--targets", str(targets), "--start",
                             str(out), "--workers", "1"])
    assert r.exit_code == 0 and "2 at 3 target(s)" in r.output and "start       2 solutions (given)" in r.output


@pytest.mark.parametrize("targets, extra, message", [
    ("1 2 3\n", [], "line 1: expected 2 value(s) (a, b), got 3"),
    ("1 nan\n", [], "line 1: 'nan' is not finite"),
    ("1 2\n", ["--q0", "1,nan"], "--q0: 'nan' is not finite"),
    ("1 2\n", ["--q0", "1"], "--q0: expected 2 value(s)"),
    ("1 2\n", ["--start", "WRONG"], "expected solutions with 2 coordinates"),
])
def test_cli_parameter_bad_input_one_line_exit_2(tmp_path, targets, extra, message):
    from click.testing import CliRunner

    from pathtrack.cli import main

    system = tmp_path / "circle.phc"
    system.write_text("2 4\n x^2 + y^2 - a;\n x - b*y;\n")
    (tmp_path / "q.csv").write_text(targets)
    if "WRONG" in extra:  # start solutions of another size: a solve file of a system in 3 unknowns
        solve("x - 1; y - 2; z - 3", workers=1).to_hdf5(str(tmp_path / "w.h5"))
        extra = ["--start", str(tmp_path / "w.h5"), "--q0", "1,2"]
    r = CliRunner().invoke(main, ["solve", str(system), "--parameters", "a,b", "--targets", str(tmp_path / "q.csv"),
                                  "--workers", "1", *extra])
    assert r.exit_code == 2, r.output
    assert r.output.count("\n") == 1 and message in r.output


# -- monodromy ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_monodromy_finds_the_count_of_a_total_degree_solve(seed):
    # parameters in the constant terms (they enter affinely): the seed pair is made from a random x*
    from pathtrack.polynomial import monodromy_solve

    ps = as_parametrized("x^2 + y^2 + z^2 - a; x*y + y*z + z*x - b; x^3 + y*z - c", "a,b,c")
    m = monodromy_solve(ps, seed=seed, workers=2)
    fresh = solve(ps.at(m.q), seed=seed, workers=1)
    assert fresh.is_complete and fresh.n_regular == 12
    assert m.status == Status.success and m.stop_rule == "loops_without_new"
    assert m.n_solutions == fresh.n_regular and m.n_found[-1] == 12 and m.n_found == sorted(m.n_found)
    _same_rows(m.solutions, fresh.solutions, tol=1e-7)
    # the last max_loops_without_new loops found nothing new
    assert m.n_found[-11:] == [12] * 11 and m.n_loops == len(m.n_found) - 1


def test_monodromy_from_a_given_seed_stops_at_the_target_count():
    from pathtrack.polynomial import monodromy_solve

    # x^3 - a·x - b at (a, b) = (7, 6): roots 3, -1, -2, seeded with the root 3
    m = monodromy_solve("x^3 - a*x - b;", ["a", "b"], seed_solution=[3.0], q=[7.0, 6.0], target_count=3,
                        seed=1, workers=1)
    assert m.stop_rule == "target_count" and m.status == Status.success
    _same_rows(m.solutions, np.array([[3.0], [-1.0], [-2.0]]))
    cut = monodromy_solve("x^3 - a*x - b;", ["a", "b"], seed_solution=[3.0], q=[7.0, 6.0], max_loops=1, seed=1,
                          workers=1)
    assert cut.stop_rule == "max_loops" and cut.n_loops == 1 and cut.status == Status.max_steps_reached


def test_monodromy_bad_input():
    from pathtrack.polynomial import monodromy_solve

    with pytest.raises(ValueError, match="do not enter affinely"):
        monodromy_solve("x^2 - a^2;", ["a"])
    with pytest.raises(ValueError, match="give both or neither"):
        monodromy_solve("x^2 - a;", ["a"], q=[1.0])
    with pytest.raises(ValueError, match="do not solve"):
        monodromy_solve("x^2 - a;", ["a"], seed_solution=[2.0], q=[1.0])
    with pytest.raises(ValueError, match="max_loops_without_new must be a positive integer"):
        monodromy_solve("x^2 - a;", ["a"], max_loops_without_new=0)



# a cubic curve cut by a line with parameters for coefficients: 3 solutions at a generic q
CURVE_AND_LINE = "x^2*y + y^2 + x - a; b*x + c*y + d"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_monodromy_stops_on_the_trace_test(seed):
    from pathtrack.polynomial import monodromy_solve

    m = monodromy_solve(CURVE_AND_LINE, "a,b,c,d", seed=seed, workers=1)
    fresh = solve(m.system.at(m.q), seed=seed, workers=1)
    assert fresh.is_complete and fresh.n_regular == 3
    assert m.stop_rule == "trace_test" and m.status == Status.success and m.n_solutions == 3
    assert m.trace_residual < 1e-10 and m.counters["n_trace_tests"] >= 1
    assert m.summary()["trace_residual"] == m.trace_residual and "trace residual" in m.message
    _same_rows(m.solutions, fresh.solutions, tol=1e-7)
    # the trace test ran once per count reached after a loop without a new solution, never on 3
    # solutions before they were all known
    assert m.counters["n_trace_tests"] <= len(set(m.n_found))


def test_trace_residual_tells_a_complete_set_from_an_incomplete_one():
    from pathtrack.polynomial import trace_residual

    F = as_parametrized(CURVE_AND_LINE, "a,b,c,d")
    q = np.array([1.0 + 0.5j, 0.7 - 0.2j, -1.1 + 0.3j, 0.4 + 0.9j])
    full = solve(F.at(q), workers=1)
    assert full.is_complete and full.n_regular == 3
    assert trace_residual(F, full.solutions, q, workers=1) < 1e-10
    for drop in range(3):  # each 2-point subset fails by many orders of magnitude
        part = np.delete(full.solutions, drop, axis=0)
        assert trace_residual(F, part, q, workers=1) > 1e-4
    with pytest.raises(ValueError, match="degree 1"):
        trace_residual("x^3 - a*x - b;", [[3.0]], [7.0, 6.0], parameters=["a", "b"])


def test_monodromy_trace_test_where_it_does_not_apply():
    from pathtrack.polynomial import monodromy_solve

    with pytest.raises(ValueError, match="trace test does not apply"):
        monodromy_solve("x^3 - a*x - b;", ["a", "b"], seed_solution=[3.0], q=[7.0, 6.0], trace_test=True)
    m = monodromy_solve("x^3 - a*x - b;", ["a", "b"], seed_solution=[3.0], q=[7.0, 6.0], max_loops=2, seed=1,
                        workers=1)
    assert m.trace_residual is None and m.counters["n_trace_tests"] == 0

def test_docs_parameter_example_runs_as_shown():
    import doctest
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "solving_systems.md").read_text()
    (block,) = [b for b in re.findall(r"```pycon\n(.*?)```", doc, re.S) if "solve_parameters" in b]
    test = doctest.DocTestParser().get_doctest(block, {}, "solving_systems.md", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0 and len(test.examples) == 8
