"""The two-parameter curves' compiled kernels (pathtrack.kernels.curves, loaded by pathtrack.kernels.curveload)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pathtrack import normalform, twoparam
from pathtrack.kernels import curveload
from pathtrack.polynomial import aotbuild

BUILT = (aotbuild.CURVES_DIR / aotbuild.CURVES_META).exists() and os.environ.get("PATHTRACK_AOT", "1") != "0"


def _kernels():
    """The compiled extension where the install built it (unless PATHTRACK_AOT=0 or no compiler), else the
    same kernels just in time from their source (Numba, in this test process only)."""
    ext = curveload.load()
    assert (ext is not None) == BUILT
    if ext is None:
        from pathtrack.kernels import curves

        return curves
    return ext


def test_off_switch_keeps_the_numpy_code(monkeypatch):
    monkeypatch.setenv("PATHTRACK_AOT", "0")
    assert curveload.load() is None


def test_bordered_inverse_matches_lapack():
    ext = _kernels()
    rng = np.random.default_rng(3)
    for n, k, square in ((2, 1, False), (2, 2, True), (4, 2, True), (3, 1, False)):
        A, B, C = rng.standard_normal((n, n)), rng.standard_normal((n, k)), rng.standard_normal((n, k))
        M = np.zeros((n + k, n + k))
        M[:n, :n] = A @ A + 0.7 * np.eye(n) if square else A
        M[:n, n:], M[n:, :n] = B, C.T
        ref = twoparam._bordered_inverse(M)
        np.testing.assert_allclose(ext.bordered_inverse(A, B, C, 0.7, square), ref, rtol=1e-12, atol=1e-13)
    singular = ext.bordered_inverse(np.zeros((2, 2)), np.zeros((2, 1)), np.zeros((2, 1)), 0.0, False)
    assert singular.shape == (3, 3) and np.isnan(singular).all()


def test_l1_levels_match_the_numpy_formula():
    from pathtrack_problems.ab_reaction import ABReaction

    ext = _kernels()
    pb = ABReaction(beta=1.0)
    u1, u2, d = pb.hopf_states()[1]
    x = np.array([u1, u2])
    A = np.ascontiguousarray(pb.dH_dp(x, d), dtype=float)
    eigs, right = np.linalg.eig(A)
    k = int(np.argmax(eigs.imag))
    q, omega = right[:, k], float(eigs[k].imag)
    p = np.conj(np.linalg.solve(right.T, np.eye(2)[k]))
    p = p / np.conj(np.vdot(p, q))
    jac = lambda P: pb.dH_dp_batch(np.asarray(P), d)  # noqa: E731
    for steps in ((0.03, 0.015), (0.0075,)):
        ref = normalform.lyapunov_levels(jac, x, A, q, p, omega, steps)
        got = normalform.lyapunov_levels(jac, x, A, q, p, omega, steps, ext.l1_levels)
        np.testing.assert_allclose(got, ref, rtol=1e-11)
    exact = pb.first_lyapunov_exact(u1, u2, d)
    two = normalform.lyapunov_levels(jac, x, A, q, p, omega, (0.03, 0.015), ext.l1_levels)
    assert (4 * two[1] - two[0]) / 3 == pytest.approx(exact, rel=1e-6)


def _reactor_points(monkeypatch, kernels):
    """GH, BT and cusp points of the reactor's Hopf curve and both fold curves (β in [0, 3], both ways)."""
    from pathtrack import track
    from pathtrack_problems.ab_reaction import ABReaction

    monkeypatch.setattr(curveload, "load", lambda: kernels)
    pb = ABReaction()
    r = track(pb)
    out = []
    for sp in r.special_points:
        run = twoparam.continue_hopf if sp.kind == "hopf" else twoparam.continue_fold
        for direction in (1, -1):
            curve = run(pb, sp, "beta", direction=direction, lam_min=0.0, lam_max=3.0)
            assert curve.success, curve.message
            d = -2 if sp.kind == "hopf" else -1  # D: the plugin's λ, after the state (and κ on a Hopf curve)
            out += [(e.kind, e.lam, e.p[d], *e.p) for e in curve.special_points if e.kind in ("gh", "bt", "cusp")]
    return out


def test_reactor_curves_with_and_without_the_kernels_agree(monkeypatch):
    """The same special points from the compiled kernels and from the NumPy code: (β, D) within 1e-10; the
    state within 1e-9 (at a cusp the test function's central difference leaves ~1e-10 of rounding noise
    along the curve, which moves u₂ there and not β, D)."""
    aot, plain = _reactor_points(monkeypatch, _kernels()), _reactor_points(monkeypatch, None)
    assert [a[0] for a in aot] == [b[0] for b in plain] and {"gh", "bt", "cusp"} <= {a[0] for a in aot}
    for a, b in zip(aot, plain):
        np.testing.assert_allclose(a[1:3], b[1:3], rtol=0, atol=1e-10, err_msg=a[0])
        np.testing.assert_allclose(a[3:], b[3:], rtol=0, atol=1e-9, err_msg=a[0])


def test_a_curve_imports_no_numba():
    code = ("import json, sys; from pathtrack import track; from pathtrack.twoparam import continue_hopf; "
            "from pathtrack.kernels import curveload; from pathtrack_problems.ab_reaction import ABReaction; "
            "pb = ABReaction(); (hb,) = track(pb).events('hopf'); "
            "c = continue_hopf(pb, hb, 'beta', direction=-1, lam_min=0.7, lam_max=2.0); "
            "print(json.dumps([c.success, curveload.load() is not None, 'numba' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [True, BUILT, False]
