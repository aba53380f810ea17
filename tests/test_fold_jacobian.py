"""The fold system's Jacobian (bordered-solve derivative) and the predator-prey plugin's hand-written one."""

import numpy as np
import pytest

from pathtrack.problem import Problem
from pathtrack.twoparam import FoldProblem
from pathtrack_problems.predprey import PredatorPrey


def _fd_jacobian(f, q, h=1e-6):
    cols = []
    for i in range(q.shape[0]):
        e = np.zeros_like(q)
        e[i] = h * max(1.0, abs(q[i]))
        cols.append((f(q + e) - f(q - e)) / (2 * e[i]))
    return np.column_stack(cols)


def test_predprey_derivatives_match_autograd():
    pb = PredatorPrey()
    rng = np.random.default_rng(0)
    for _ in range(5):
        p, lam = rng.uniform(-0.5, 1.0, 2), float(rng.uniform(0, 1))
        np.testing.assert_allclose(pb.dH_dp(p, lam), Problem.dH_dp(pb, p, lam), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(pb.dH_dlam(p, lam), Problem.dH_dlam(pb, p, lam), rtol=1e-13, atol=1e-14)


def test_fold_system_jacobian_matches_differences_of_the_fold_system():
    pb = PredatorPrey()
    # near the fold of the prey-only branch (u₂ = 0), where the border vectors are taken
    u1 = 0.4290
    lam = pb.p2 * u1 * (1 - u1) / (1 - np.exp(-pb.p3 * u1))
    fp = FoldProblem(pb, "p3", (np.array([u1, 0.0]), lam))
    q = np.array([u1 + 0.01, 0.02, lam - 0.003])
    J = fp.dH_dp(q, 5.1)
    J_fd = _fd_jacobian(lambda z: fp.H(z, 5.1), q)
    np.testing.assert_allclose(J, J_fd, rtol=1e-6, atol=1e-7)


def _hopf_start(beta=2.0, k=1):
    from pathtrack_problems.ab_reaction import ABReaction

    pb = ABReaction(beta=beta)
    u1, u2, d = pb.hopf_states()[k]
    return pb, np.array([u1, u2]), d


def test_hopf_and_fold_system_jacobians_with_their_mu_column_match_differences():
    from pathtrack.twoparam import HopfProblem

    pb, x, d = _hopf_start()
    hp = HopfProblem(pb, "beta", (x, d))
    q, mu = hp.start().p * (1 + 1e-3 * np.arange(1, 5)), 2.01
    J = np.column_stack([hp.dH_dp(q, mu), hp.dH_dlam(q, mu)])
    J_fd = _fd_jacobian(lambda z: hp.H(z[:-1], z[-1]), np.append(q, mu))
    np.testing.assert_allclose(J, J_fd, rtol=1e-8, atol=1e-8 * np.abs(J_fd).max())
    # the fold system's μ column (the x-columns are checked above on predprey)
    u1 = 0.4290
    pp = PredatorPrey()
    fp = FoldProblem(pp, "p3", (np.array([u1, 0.0]), pp.p2 * u1 * (1 - u1) / (1 - np.exp(-pp.p3 * u1))))
    qf = fp.start().p + np.array([0.01, 0.02, -0.003])
    col_fd = _fd_jacobian(lambda z: fp.H(qf, z[0]), np.array([5.1]))[:, 0]
    np.testing.assert_allclose(fp.dH_dlam(qf, 5.1), col_fd, rtol=1e-7, atol=1e-8)


def test_hopf_curve_l1_matches_the_exact_forms_to_1e_11():
    from pathtrack.twoparam import HopfProblem

    for beta, k in ((0.8447737413627, 1), (5.1968315102657, 0), (3.0, 0), (1.2, 1)):  # near both GH points, and away
        pb, x, d = _hopf_start(beta, k)
        hp = HopfProblem(pb, "beta", (x, d))
        exact = pb.first_lyapunov_exact(x[0], x[1], d)
        tol = 1e-11 if abs(exact) < 1e-4 else 1e-6 * abs(exact)  # the third Richardson step only near l1 = 0
        assert hp.l1_value(hp.start().p, beta) == pytest.approx(exact, abs=tol)
