"""The fold system's Jacobian (bordered-solve derivative) and the predator-prey plugin's hand-written one."""

import numpy as np

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
