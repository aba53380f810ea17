"""The tracker's per-step shortcuts give what the NumPy expressions they stand for give, bit for bit.

Small LUs are judged and signed in Python, short vectors tested for finiteness in Python, the
Jacobian cache compares short points as lists, plugins rebuilt at each μ test a float for NaN
inline: each must agree with the generic code on both sides of its size limit, NaN and ±0 included.
"""

import numpy as np
import pytest

from pathtrack import linalg
from pathtrack.linalg import SingularJacobianError, _bordered_lu, _lu_slogdet
from pathtrack.problem import NonFiniteError, ProblemError, RealSystem
from pathtrack_problems.ab_reaction import ABReaction


def _numpy_slogdet(lu):
    factors, piv = lu
    d = factors.diagonal()
    n_swaps = int(np.count_nonzero(piv != np.arange(piv.shape[0])))
    return float(np.sign(d).prod()) * (-1.0 if n_swaps % 2 else 1.0), float(np.log(np.abs(d)).sum())


@pytest.mark.parametrize("m", [1, 2, 4, linalg._SMALL_N - 1, linalg._SMALL_N, linalg._SMALL_N + 3])
def test_small_lu_sign_and_log_det_match_numpy(m):
    rng = np.random.default_rng(m)
    for _ in range(20):
        J, b = rng.standard_normal((m, m + 1)), rng.standard_normal(m + 1)
        lu = _bordered_lu(J, b, 1e12)
        assert _lu_slogdet(lu) == _numpy_slogdet(lu)
        sign, logdet = np.linalg.slogdet(np.vstack([J, b]))
        assert _lu_slogdet(lu)[0] == sign and _lu_slogdet(lu)[1] == pytest.approx(logdet, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("m", [3, linalg._SMALL_N + 3])
def test_singular_and_nan_bordered_matrices_are_refused_at_any_size(m):
    J = np.ones((m, m + 1))
    with pytest.raises(SingularJacobianError, match="singular"):
        _bordered_lu(J, np.ones(m + 1), 1e12)
    J = np.eye(m, m + 1)
    J[0, 0] = np.nan
    with pytest.raises(SingularJacobianError, match="nan"):
        _bordered_lu(J, np.arange(m + 1.0), 1e12)


@pytest.mark.parametrize("n", [3, 200])
def test_finiteness_check_of_short_and_long_vectors(n):
    v = np.linspace(-1.0, 1.0, n)
    assert RealSystem._finite(v, "H") is v
    for bad in (np.nan, np.inf, -np.inf):
        w = v.copy()
        w[n // 2] = bad
        with pytest.raises(NonFiniteError, match="H is not finite"):
            RealSystem._finite(w, "H")
    assert RealSystem._finite(np.zeros((2, 3)), "dH_dp").shape == (2, 3)
    with pytest.raises(NonFiniteError):
        RealSystem._finite(np.array([[0.0, np.nan]]), "dH_dp")


def test_jacobian_cache_hits_equal_points_only():
    system = RealSystem(ABReaction(), 2)
    y = np.array([0.1, 0.2, 0.05])
    J = system.jacobian(y)
    assert system.jacobian(y.copy()) is J and system.n_jac_evals == 1
    y2 = y.copy()
    y2[1] = np.nextafter(y2[1], 1.0)
    assert system.jacobian(y2) is not J and system.n_jac_evals == 2
    zero = np.array([0.0, 0.0, 0.05])
    Jz = system.jacobian(zero)
    assert system.jacobian(np.array([-0.0, 0.0, 0.05])) is Jz  # == as NumPy's: -0.0 equals 0.0


def test_rebuilt_plugin_parameters_are_still_checked():
    assert ABReaction(beta=2.5).beta == 2.5 and ABReaction(B=10).B == 10.0
    with pytest.raises(ProblemError, match="'beta' is NaN"):
        ABReaction(beta=float("nan"))
    with pytest.raises(ProblemError, match="'beta' is NaN"):
        ABReaction(beta=np.float64("nan"))
    with pytest.raises(ProblemError, match=r"unknown parameter\(s\) \['zz'\]; valid: B, beta, lam_max"):
        ABReaction(zz=1.0)


def test_eig_pairs_match_numpy():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    w, v = linalg.eig(A)
    w_ref, v_ref = np.linalg.eig(A)
    assert np.any(w.imag != 0)
    order, order_ref = np.lexsort((w.imag, w.real)), np.lexsort((w_ref.imag, w_ref.real))
    np.testing.assert_allclose(w[order], w_ref[order_ref], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A @ v, v * w, atol=1e-12)  # every column an eigenvector of its value
