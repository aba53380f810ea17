"""Counts that must come out exactly: targets sharing roots with the total-degree start system.

For ``x^5 - 1`` the target is the start system itself, so every path is stationary and its
tangent is rounding noise; targets such as ``(x-1)^2 (x+1)`` put a start root on a double root
of the target. Each count is checked against the known answer and no path may fail.
"""

import numpy as np
import pytest

from pathtrack.polynomial import SINGULAR, solve

# system -> (distinct regular solutions, multiplicities of the singular ones)
KNOWN = {
    "x^5 - 1": (5, []),
    "x^10 - 1": (10, []),
    "x^4 - 1": (4, []),
    "x^12 - 1": (12, []),
    "x^7 + 1": (7, []),
    "2*x^5 - 2": (5, []),
    "x^5 - 1.000001": (5, []),
    "x^50 - 1": (50, []),
    "x^3 - 1; y^3 - 1": (9, []),
    "x^2 - 1; y^2 - 1": (4, []),
    "x^3 - y^3; y^3 - 1": (9, []),
    "x^5 - 1; y^5 - 1; z^5 - 1": (125, []),
    "x^5 - 1; y^2 - x": (10, []),
    "x^5 - 1; x*y - 1": (5, []),
    "x^2 - 1; x*y - 1": (2, []),
    "x^6 - 1; y - x^2": (6, []),
    "x^4 - x": (4, []),
    "(x-1)*(x-2)*(x-3)": (3, []),
    "(x-1)^2*(x+1)": (1, [2]),
    "(x^2-1)*(x^3-1)": (3, [2]),
    "x^3 - 1; (y-1)^2": (0, [2, 2, 2]),
}


@pytest.mark.parametrize("system", list(KNOWN))
@pytest.mark.parametrize("seed", [0, 1, 3, 4])
def test_targets_sharing_roots_with_the_start_system_give_exact_counts(system, seed):
    n_regular, mult = KNOWN[system]
    res = solve(system + ";", seed=seed)
    assert res.failures() == {}
    assert res.n_failed == 0
    assert res.n_regular == n_regular
    assert sorted(res.multiplicities.tolist()) == mult
    # every finite path is accounted for: one per regular root, `mult` per singular point
    assert np.sum(res.path_kind == SINGULAR) == sum(mult)
    assert res.n_unresolved_crossings == 0 and res.is_complete


def test_x100_minus_1_default_options_finds_all_100_roots():
    res = solve("x^100 - 1;")
    assert (res.n_regular, res.n_failed, res.n_singular) == (100, 0, 0)
    roots = np.exp(2j * np.pi * np.arange(100) / 100)
    assert np.abs(res.solutions[:, 0][:, None] - roots[None, :]).min(axis=0).max() < 1e-12


@pytest.fixture
def failing_solve(monkeypatch):
    """``pathtrack solve`` with a step budget too small to finish any path, and no re-tracking."""
    import pathtrack.polynomial as poly
    from pathtrack.polynomial import SolveOptions

    real = poly.solve

    def solve_with_tiny_budget(system, **kw):
        return real(system, options=SolveOptions(max_steps=2, direct_steps=2, max_retracks=0), **kw)

    monkeypatch.setattr(poly, "solve", solve_with_tiny_budget)


def test_failed_paths_make_the_cli_exit_1_and_are_named(failing_solve, tmp_path):
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main

    f = tmp_path / "q.phc"
    f.write_text("2\n x^2 + y - 3;\n x*y - 1;\n")
    r = CliRunner().invoke(main, ["solve", str(f)])
    assert r.exit_code == 1, r.output
    assert "max_steps_reached" in r.output and "paths 0 (max_steps_reached)" in r.output
    assert "INCOMPLETE" in r.output
    r = CliRunner().invoke(main, ["solve", str(f), "--json"])
    assert r.exit_code == 1
    s = json.loads(r.output)
    assert s["complete"] is False and s["n_failed"] == 4 and s["failed_paths"]["0"] == "max_steps_reached"
    for key in ("n_paths", "n_regular", "n_singular", "n_at_infinity", "n_failed", "n_path_crossings",
                "n_retracked", "failures", "wall_time", "seed"):
        assert key in s


def test_complete_result_exits_0_and_reports_complete(tmp_path):
    import json

    from click.testing import CliRunner

    from pathtrack.cli import main

    f = tmp_path / "q.phc"
    f.write_text("1\n x^5 - 1;\n")
    r = CliRunner().invoke(main, ["solve", str(f), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert (s["n_regular"], s["n_failed"], s["complete"], s["failed_paths"]) == (5, 0, True, {})


def test_unresolved_crossing_makes_the_result_incomplete():
    from pathtrack.polynomial import REGULAR

    import dataclasses

    res = solve("x^2 - 2;", seed=0)
    assert res.is_complete
    res.path_kind[:] = REGULAR  # two regular paths, one regular solution
    res = dataclasses.replace(res, solutions=res.solutions[:1])
    assert res.n_unresolved_crossings == 1 and not res.is_complete
    assert res.summary()["n_unresolved_crossings"] == 1


def test_overall_status_is_success_only_for_a_complete_result():
    from pathtrack import Status
    from pathtrack.polynomial import FAILED, INTERRUPTED, REGULAR
    from pathtrack.polynomial.solver import _overall_status

    ok = np.array([int(Status.success)] * 3)
    assert _overall_status(ok, np.array([REGULAR] * 3), 3)["status"] is Status.success
    crossed = _overall_status(ok, np.array([REGULAR] * 3), 2)
    assert crossed["status"] is Status.path_crossing and "1 unresolved" in crossed["message"]
    codes = np.array([int(Status.success), int(Status.ds_too_small), int(Status.interrupted)])
    assert _overall_status(codes, np.array([REGULAR, FAILED, REGULAR]), 2)["status"] is Status.ds_too_small
    stopped = _overall_status(codes, np.array([REGULAR, FAILED, INTERRUPTED]), 1)
    assert stopped["status"] is Status.interrupted and "1 of 3 paths not tracked" in stopped["message"]


# -- no root lost silently: suspect paths at infinity ------------------------------------------------

def _fake_track(deep_failure_end, settle_end=None):
    """A ``track(rows, opt)`` for ``x^2 - 4`` whose path 0 reaches ``x = 2`` and whose path 1 looks
    infinite at the first endgame radius and fails in the deep endgame at ``deep_failure_end``, as
    discret3s's paths to its roots of norm 1e5 do; tracked to stop at a small ``1 - t`` (no direct
    steps: ``_settle_by_newton``), it fails at ``settle_end`` where that is given."""
    from pathtrack import Status
    from pathtrack.polynomial import kernels as k

    def track(rows, opt):
        deep = opt[k.O_EG_RADIUS] < 1e-3
        end1 = settle_end if settle_end is not None and deep and opt[k.O_DIRECT_STEPS] == 0 else deep_failure_end
        ends = np.array([[1.0, 2.0], end1 if deep else [1e-3, 1.0]], dtype=np.complex128)[rows]
        codes = np.array([int(Status.success), int(Status.ds_too_small if deep else Status.success)])[rows]
        kinds = np.array([k.END_DIRECT, k.END_DIRECT if deep else k.END_INFINITY])[rows]
        ones = np.ones(len(rows), dtype=np.int64)
        return ends, codes, kinds, ones, ones.copy(), np.zeros(len(rows))

    return track


def _classify_fake(finish, deep_failure_end=(1e-3, 1.0), max_extended_seconds=60.0, settle_end=None):
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _NoBar, _solve_result, _StopFlag, _track_and_classify

    system = parse_system("x^2 - 4;")
    starts = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=np.complex128)
    opts = SolveOptions(max_extended_seconds=max_extended_seconds)  # the extended stage is opt-in
    out = _track_and_classify([(system, np.arange(2))], starts, opts, _StopFlag(), _NoBar(),
                              _fake_track(np.array(deep_failure_end, dtype=np.complex128), settle_end), finish)
    ends, codes, kinds, winding, steps, (cls,), (n_cross,), retracked, deep, suspect, recovered = out[:11]
    res = _solve_result(system, ends, codes, winding, steps, cls, n_cross, 0, {}, seed=0, gamma=1.0,
                        options=opts, total_time=0.0)
    return res, suspect, recovered


def test_a_deep_endgame_failure_off_infinity_is_a_failed_path_not_a_path_at_infinity():
    from pathtrack import Status

    res, suspect, _ = _classify_fake(finish=None)
    assert suspect.tolist() == [False, True]
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 0, 1)
    assert not res.is_complete and res.status is Status.ds_too_small and "1 of 2 paths failed" in res.message


def test_a_deep_endgame_failure_at_infinity_stays_at_infinity():
    res, suspect, _ = _classify_fake(finish=None, deep_failure_end=(1e-12, 1.0))
    assert not suspect.any()
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 1, 0) and res.is_complete


def test_the_extended_precision_stage_settles_a_suspect_path_only_with_a_new_regular_root():
    new_root = _classify_fake(finish=lambda rows: np.array([[0.5, -1.0]], dtype=np.complex128))
    res, suspect, recovered = new_root
    assert recovered.tolist() == [False, True] and res.is_complete
    assert np.sort(res.solutions[:, 0].real).tolist() == pytest.approx([-2.0, 2.0])
    # the root path 0 reached already: a crossing, not a settled path
    res, _, recovered = _classify_fake(finish=lambda rows: np.array([[0.5, 1.0]], dtype=np.complex128))
    assert not recovered.any() and (res.n_regular, res.n_failed) == (1, 1) and not res.is_complete
    # extended precision failed too
    res, _, recovered = _classify_fake(finish=lambda rows: np.full((1, 2), np.nan, dtype=np.complex128))
    assert not recovered.any() and res.n_failed == 1 and not res.is_complete


def test_by_default_a_suspect_path_is_failed_without_the_extended_stage():
    def finish(rows):
        raise AssertionError("the extended stage ran with a zero budget")

    res, suspect, recovered = _classify_fake(finish=finish, max_extended_seconds=0.0)
    assert suspect.sum() == 1 and not recovered.any() and res.n_failed == 1 and not res.is_complete


def _classify_with_tail(tail_last):
    """x^2 = 4, (x - 2)·y = 1 (one root, (-2, -1/4); the rest at (0 : 0 : 1) at infinity): path 0 reaches the
    root, path 1 looks infinite, fails in the deep endgame off infinity (suspect), and its tail fails at
    ``tail_last``. No extended-precision stage (the default budget of 0 s)."""
    from pathtrack import Status
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _NoBar, _solve_result, _StopFlag, _track_and_classify

    system = parse_system("x^2 - 4; x*y - 2*y - 1;")

    def track(rows, opt):
        deep = opt[k.O_EG_RADIUS] < 1e-3
        ends = np.array([[1.0, -2.0, -0.25], [1e-3, -2e-3, 1.0]], dtype=np.complex128)[rows]
        codes = np.array([int(Status.success), int(Status.ds_too_small if deep else Status.success)])[rows]
        kinds = np.array([k.END_DIRECT, k.END_DIRECT if deep else k.END_INFINITY])[rows]
        ones = np.ones(len(rows), dtype=np.int64)
        return ends, codes, kinds, ones, ones.copy(), np.zeros(len(rows))

    def tail(rows, radius=None):
        return (np.full((len(rows), 3), np.nan, dtype=np.complex128),
                np.tile(np.asarray(tail_last, dtype=np.complex128), (len(rows), 1)))

    opts = SolveOptions()
    starts = np.ones((2, 3), dtype=np.complex128)
    out = _track_and_classify([(system, np.arange(2))], starts, opts, _StopFlag(), _NoBar(), track, None, tail)
    ends, codes, kinds, winding, steps, (cls,), (n_cross,), retracked, deep, suspect, recovered = out[:11]
    return _solve_result(system, ends, codes, winding, steps, cls, n_cross, 0, out[11], seed=0, gamma=1.0,
                         options=opts, total_time=0.0)


def test_a_suspect_path_whose_tail_failed_nearer_infinity_stays_there_where_it_is_headed_for_infinity():
    # the tail took it from |x_0|/|x| = 1e-3 to 1e-6, towards (0 : 0 : 1), before failing (redcyc7's six paths)
    res = _classify_with_tail([1e-6, -2e-6, 1.0])
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 1, 0) and res.is_complete
    assert res.counters["n_suspect_kept_at_infinity"] == 1
    assert abs(res.path_endpoints[1, 0]) < 1e-5  # the tail's last point is the endpoint reported
    # nearer infinity, but where the top-degree forms do not vanish: not headed there, a failed path
    res = _classify_with_tail([1e-4, 0.5, 1.0])
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 0, 1) and not res.is_complete
    # farther from infinity than the endgame's endpoint: no evidence either way, a failed path
    res = _classify_with_tail([0.1, -0.2, 1.0])
    assert res.n_failed == 1 and not res.is_complete


def test_extended_newton_settles_a_suspect_path_near_a_root_no_other_path_reached():
    # where the tracker stops near 1 - t = 1e-10, 50-digit Newton reaches x = -2: with the default
    # budget of 0 (no extended re-track), the path is that regular root and the result complete
    res, suspect, recovered = _classify_fake(finish=None, max_extended_seconds=0.0, settle_end=(1.0, -2.1))
    assert suspect.tolist() == [False, True] and recovered.tolist() == [False, True]
    assert res.is_complete and res.n_failed == 0
    assert np.sort(res.solutions[:, 0].real).tolist() == pytest.approx([-2.0, 2.0])
    # near the root path 0 reached (a crossing), or farther from -2 than HEADED_ROOT_DISTANCE: still failed
    for end in ((1.0, 2.1), (1.0, -3.0)):
        res, _, recovered = _classify_fake(finish=None, max_extended_seconds=0.0, settle_end=end)
        assert not recovered.any() and (res.n_regular, res.n_failed) == (1, 1) and not res.is_complete


def test_track_linear_follows_paths_of_the_total_degree_homotopy_to_t_1_in_extended_precision():
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _extended_finish, _StopFlag, _track
    from pathtrack.polynomial.start import total_degree_start

    system = parse_system("x^2 - 4*y; y^2 - 9;")  # roots (±sqrt(12), 3), (±sqrt(12)·i, -3)
    rng = np.random.default_rng(0)
    gamma = complex(np.exp(2j * np.pi * rng.uniform()))
    patch = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    hom = system.homogenize().packed()
    start, starts = total_degree_start(system.degrees, patch)
    max_exp = max(hom.max_exp, start.packed().max_exp)
    opts = SolveOptions(max_extended_seconds=60.0)
    finish = _extended_finish(starts, opts, lambda rows, opt: _track(starts[rows], hom.arrays(), start.packed().arrays(),
                                                                      gamma, patch, opt, max_exp, None, 1),
                              hom, start.packed(), gamma, patch, _StopFlag())
    ends = finish(np.arange(4))
    assert np.isfinite(ends).all()
    x = ends[:, 1:] / ends[:, :1]
    expected = [(12 ** 0.5, 3), (-12 ** 0.5, 3), (12 ** 0.5 * 1j, -3), (-12 ** 0.5 * 1j, -3)]
    for root in expected:  # every root reached by exactly one path, to double's last digits
        assert np.sum(np.linalg.norm(x - np.array(root), axis=1) < 1e-12) == 1

    # the stage's time budget and an interrupt both end it at once, with no endpoint (the path then fails);
    # by default (budget 0) _track_and_classify does not call it at all
    spent = SolveOptions(max_extended_seconds=1e-9)
    stopped = _StopFlag()
    stopped.request_stop()
    for o, flag in ((spent, _StopFlag()), (opts, stopped)):
        late = _extended_finish(starts, o, lambda rows, opt: _track(starts[rows], hom.arrays(),
                                                                    start.packed().arrays(), gamma, patch, opt,
                                                                    max_exp, None, 1),
                                hom, start.packed(), gamma, patch, flag)
        assert np.isnan(late(np.arange(4))).all()


def _classify_many(n_suspect, tail_last=None, tail_stalled=None, failed_end=None, tail_end=None):
    """x^2 = 4, (x - 2)·y = 1 as in :func:`_classify_with_tail`, with path 0 at the root and ``n_suspect``
    paths that look infinite and fail in the deep endgame at ``|x_0|/‖x‖ = 0.059`` (above
    ``TOP_FORM_MAX_X0``); their tail fails at ``tail_last``, or the compiled tracker stops at
    ``tail_stalled`` before the tail begins. With ``failed_end``, one more path fails in every round at
    that finite point and its tail ends at ``tail_end`` (NaN: failed)."""
    from pathtrack import Status
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _NoBar, _solve_result, _StopFlag, _track_and_classify

    system = parse_system("x^2 - 4; x*y - 2*y - 1;")
    n = 1 + n_suspect + (failed_end is not None)
    c = np.complex128
    nan3 = np.full(3, np.nan, dtype=c)

    def track(rows, opt):
        deep = opt[k.O_EG_RADIUS] < 1e-3
        ends = np.array([[1.0, -2.0, -0.25]] + [[0.06, -0.12, 1.0]] * n_suspect
                        + ([] if failed_end is None else [failed_end]), dtype=c)
        codes = np.array([int(Status.success)] + [int(Status.ds_too_small if deep else Status.success)] * n_suspect
                         + ([] if failed_end is None else [int(Status.ds_too_small)]))
        kinds = np.array([k.END_DIRECT] + [k.END_DIRECT if deep else k.END_INFINITY] * n_suspect
                         + ([] if failed_end is None else [k.END_CAUCHY]))
        ones = np.ones(len(rows), dtype=np.int64)
        return ends[rows], codes[rows], kinds[rows], ones, ones.copy(), np.zeros(len(rows))

    def tail(rows, radius=None):
        failed = rows == n - 1 if failed_end is not None else np.zeros(len(rows), dtype=bool)
        pick = lambda point, other: np.array([other if f else (nan3 if point is None else np.asarray(point, c))
                                              for f in failed], dtype=c).reshape(len(rows), 3)
        end = nan3 if tail_end is None else np.asarray(tail_end, c)
        return pick(None, end), pick(tail_last, nan3), pick(tail_stalled, nan3)

    opts = SolveOptions()
    out = _track_and_classify([(system, np.arange(n))], np.ones((n, 3), dtype=c), opts, _StopFlag(), _NoBar(),
                              track, None, tail)
    ends, codes, kinds, winding, steps, (cls,), (n_cross,), retracked, deep, suspect, recovered = out[:11]
    return _solve_result(system, ends, codes, winding, steps, cls, n_cross, 0, out[11], seed=0, gamma=1.0,
                         options=opts, total_time=0.0)


def test_more_than_8_suspect_paths_are_judged_where_they_got_nearest_infinity():
    # gaukwa3, seed 0: endpoints at |x_0|/|x| 0.05-0.07, tails failing at 0.0016; reimer5, seed 0: the compiled
    # tracker stopping at about 0.005 before the tail began. Judged at the endpoint alone, all 9 failed.
    near = [1e-4, -2e-4, 1.0]
    for res in (_classify_many(9, tail_last=near), _classify_many(9, tail_stalled=near)):
        assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 9, 0) and res.is_complete
        assert res.counters["n_suspect_kept_at_infinity"] == 9
        assert np.abs(res.path_endpoints[1:, 0]).max() < 1e-3  # the point judged is the endpoint reported
    # farther from infinity than the endpoint, or no point at all: failed
    for res in (_classify_many(9, tail_last=[0.5, -1.0, 1.0]), _classify_many(9)):
        assert res.n_failed == 9 and not res.is_complete
    # 8 or fewer: where the compiled tracker stopped is no evidence (a path to a root of large norm stops so
    # too: unscaled discret3s, seed 0), only the tail's own last point is
    assert _classify_many(2, tail_stalled=near).n_failed == 2
    assert _classify_many(2, tail_last=near).n_failed == 0


def test_a_failed_path_is_settled_by_where_its_tail_ends():
    end = [0.01, -0.02, 1.0]  # a Cauchy endgame that never agreed (cassou, seed 0: winding 4 at |x| = 2e4)
    for tail_end in ([1e-9, -2e-9, 1.0], [1e-5, -2e-5, 1.0]):  # x_0 below infinity_tol; or nearer, at s ~ 0
        res = _classify_many(0, failed_end=end, tail_end=tail_end)
        assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 1, 0) and res.is_complete
        assert res.counters["n_failed_tail_infinity"] == 1
    # the tail failed, ended farther from infinity, or where the top-degree forms do not vanish: still failed
    for tail_end in (None, [0.5, -1.0, 1.0], [1e-3, 0.5, 1.0]):
        res = _classify_many(0, failed_end=end, tail_end=tail_end)
        assert res.n_failed == 1 and not res.is_complete and res.counters["n_failed_tail"] == 1


def _classify_failing_at(end, at_radius=None, system="(x-1)*(y-2); (x-1)*(x+y-5);"):
    """Path 0 reaches the regular root (3, 2) of ``system`` (by default the line ``x = 1`` and that
    root); path 1 fails (``ds_too_small`` in every round) at the projective point ``end``; tracked to
    stop at ``1 - t = r`` (``_settle_on_component``: ``r`` of ``COMPONENT_RADII``), it reaches
    ``at_radius(r)`` (default ``end``), or fails on the way where that is None."""
    from pathtrack import Status
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _NoBar, _solve_result, _StopFlag, _track_and_classify

    work = parse_system(system)
    c = np.complex128
    at_radius = at_radius or (lambda r: end)

    def track(rows, opt):
        settle = opt[k.O_DIRECT_STEPS] == 0 and opt[k.O_EG_RADIUS] < 1e-7
        point = at_radius(opt[k.O_EG_RADIUS]) if settle else end
        stalled = point is None
        ends = np.array([[1.0, 3.0, 2.0], [0.3, 1.0, 1.0] if stalled else point], dtype=c)
        codes = np.array([int(Status.success), int(Status.ds_too_small)])
        kinds = np.array([k.END_DIRECT, k.END_DIRECT if stalled else k.END_CAUCHY])
        ones = np.ones(len(rows), dtype=np.int64)
        return ends[rows], codes[rows], kinds[rows], ones, ones.copy(), np.zeros(len(rows))

    opts = SolveOptions()
    out = _track_and_classify([(work, np.arange(2))], np.ones((2, 3), dtype=c), opts, _StopFlag(), _NoBar(), track)
    ends, codes, kinds, winding, steps, (cls,), (n_cross,), retracked, deep, suspect, recovered = out[:11]
    return _solve_result(work, ends, codes, winding, steps, cls, n_cross, 0, out[11], seed=0, gamma=1.0,
                         options=opts, total_time=0.0)


def test_a_failed_path_that_converged_on_a_component_is_a_singular_endpoint_there():
    from pathtrack.polynomial.localdim import local_dimension

    # cohn2 (seed 0): 14 paths whose deep endgame failed converge to points of its 2-dimensional components
    res = _classify_failing_at([1.0, 1.0, 7.0])
    assert (res.n_regular, res.n_singular, res.n_failed) == (1, 1, 0) and res.is_complete
    assert res.counters["n_failed_on_component"] == 1
    assert local_dimension(res.system, res.singular_solutions).tolist() == [1]
    on_line = {1e-8: [1.0, 1.0, 7.01], 1e-10: [1.0, 1.0, 7.001], 1e-12: [1.0, 1.0, 7.0001]}
    for at_radius in (lambda r: None if r < 1e-11 else [1.0, 1.0, 7.0],  # stops short of 1e-12 (cohn2, seed 3)
                      lambda r: on_line[r]):  # steps shrinking 10 times: 1.3e-5 from the limit (redcyc7, seed 2)
        res = _classify_failing_at([1.0, 1.0, 7.0], at_radius)
        assert res.n_failed == 0 and res.counters["n_failed_on_component"] == 1
    # still moving (steps not shrinking), not a solution, headed for the regular root (a crossing), or at
    # an isolated double root ((1, 2) of (x-1)(x-3), (y-2)^2 + (x-1)(y-2)): each stays failed
    moving = {1e-8: [1.0, 1.0, 7.001], 1e-10: [1.0, 1.0, 7.002], 1e-12: [1.0, 1.0, 7.003]}
    for end, at_radius, system in (([1.0, 1.0, 7.0], lambda r: moving[r], None), ([1.0, 2.0, 7.0], None, None),
                                   ([1.0, 3.0, 2.0 + 1e-9], None, None),
                                   ([1.0, 1.0, 2.0], None, "(x-1)*(x-3); (y-2)^2 + (x-1)*(y-2);")):
        res = _classify_failing_at(end, at_radius, *(() if system is None else (system,)))
        assert res.n_failed == 1 and not res.is_complete and res.counters["n_failed_on_component"] == 0


def test_a_lone_suspect_path_whose_tracker_stalled_before_the_tail_gets_a_tail_from_further_out():
    from pathtrack import Status
    from pathtrack.polynomial import kernels as k
    from pathtrack.polynomial.parse import parse_system
    from pathtrack.polynomial.solver import SolveOptions, _NoBar, _solve_result, _StopFlag, _track_and_classify

    system = parse_system("x^2 - 4; x*y - 2*y - 1;")
    c = np.complex128
    nan = np.full((1, 3), np.nan, dtype=c)

    def track(rows, opt):  # path 0 at the root, path 1 looks infinite and fails in the deep endgame
        deep = opt[k.O_EG_RADIUS] < 1e-3
        ends = np.array([[1.0, -2.0, -0.25], [1e-3, -2e-3, 1.0]], dtype=c)[rows]
        codes = np.array([int(Status.success), int(Status.ds_too_small if deep else Status.success)])[rows]
        kinds = np.array([k.END_DIRECT, k.END_DIRECT if deep else k.END_INFINITY])[rows]
        ones = np.ones(len(rows), dtype=np.int64)
        return ends, codes, kinds, ones, ones.copy(), np.zeros(len(rows))

    def run(tail_end_at):
        """The compiled tracker stalls before 1 - t = 1e-8 (extcyc6, seed 0); a tail started at 1 - t = r
        ends at ``tail_end_at(r)`` (NaN: failed)."""
        def tail(rows, radius=None):
            if radius is None:
                return nan, nan, np.array([[1e-4, -2e-4, 1.0]], dtype=c)
            return np.asarray(tail_end_at(radius), dtype=c).reshape(1, 3), nan, nan

        opts = SolveOptions()
        out = _track_and_classify([(system, np.arange(2))], np.ones((2, 3), dtype=c), opts, _StopFlag(), _NoBar(),
                                  track, None, tail)
        ends, codes, kinds, winding, steps, (cls,), (n_cross,) = out[:7]
        return _solve_result(system, ends, codes, winding, steps, cls, n_cross, 0, out[11], seed=0, gamma=1.0,
                             options=opts, total_time=0.0)

    # the tail from 1 - t = 1e-2 takes |x_0|/|x| below infinity_tol: at infinity, the tail's point reported
    res = run(lambda r: [1e-9, -2e-9, 1.0] if r > 1e-3 else nan)
    assert (res.n_regular, res.n_at_infinity, res.n_failed) == (1, 1, 0) and res.is_complete
    assert res.counters["n_suspect_earlier_tail"] == 1 and abs(res.path_endpoints[1, 0]) < 1e-8
    # every tail failed, or the nearest that ended reached a finite point (1e-4, before 1e-2): still failed
    for tail_end_at in (lambda r: nan, lambda r: [1.0, -2.0, 7.0] if r < 1e-3 else [1e-9, -2e-9, 1.0]):
        res = run(tail_end_at)
        assert res.n_failed == 1 and not res.is_complete and res.counters["n_suspect_earlier_tail"] == 0
