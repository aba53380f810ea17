"""Sparse Jacobians: branch points, branch switching and diagrams of the 2-D Allen–Cahn plugin.

The branch points on u = 0 are the eigenvalues μ_jk of the discrete −Δ, known in closed
form; the engine must find them, and switch at them, without forming a dense matrix.
"""

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse

from pathtrack import ProblemError, track
from pathtrack.branching import analyse_branch_point
from pathtrack.diagram import diagram
from pathtrack.problem import RealSystem, check_problem
from pathtrack.sparse import near_kernel, sparse_bordered_solve, splu_slogdet, bordered_splu
from pathtrack_problems.allen_cahn import AllenCahn2D

SMALL = dict(nx=12, ny=10, lam_max=75.0)


@pytest.fixture
def no_dense_lu(monkeypatch):
    """Any dense LU, SVD or determinant during the test fails it."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dense factorisation was used on a sparse problem")

    for name in ("lu_factor", "svd", "svdvals", "qr"):
        monkeypatch.setattr(scipy.linalg, name, refuse)
    monkeypatch.setattr(np.linalg, "slogdet", refuse)


def test_branch_points_on_the_trivial_branch_are_the_laplacian_eigenvalues(no_dense_lu):
    pb = AllenCahn2D(**SMALL)
    r = track(pb)
    assert r.success and r.end_reason == "lam_end"
    bps = [sp.lam for sp in r.events("bp")]
    expected = [mu for mu, _, _ in pb.branch_points()]
    assert len(expected) == 3
    np.testing.assert_allclose(bps, expected, rtol=1e-12)


def test_sparse_kernel_and_tangents_match_the_dense_analysis():
    pb = AllenCahn2D(**SMALL)
    mu, j, k = pb.branch_points()[1]  # mode (2, 1): odd in x, a symmetry-breaking pitchfork
    p = np.zeros(pb.nx * pb.ny)
    t_parent = np.zeros(p.size + 1)
    t_parent[-1] = 1.0

    class Dense(AllenCahn2D):
        sparse_jacobian = False

        def dH_dp(self, p, lam):
            return super().dH_dp(p, lam).toarray()

    sparse = analyse_branch_point(pb, (p, mu), parent_tangent=t_parent)
    dense = analyse_branch_point(Dense(**SMALL), (p, mu), parent_tangent=t_parent, refine=False)
    assert sparse.kernel_dim == dense.kernel_dim == 2
    assert sparse.kinds == dense.kinds and "pitchfork" in sparse.kinds
    for ts, td in zip(sparse.new_tangents, dense.new_tangents):
        assert abs(abs(float(ts @ td)) - 1.0) < 1e-8
    # the new branch's tangent is the mode sin(2πx) sin(πy/ly): odd under x -> 1 - x
    u = sparse.new_tangents[0][:-1].reshape(pb.ny, pb.nx)
    np.testing.assert_allclose(u[:, ::-1], -u, atol=1e-8)
    x = np.arange(1, pb.nx + 1) / (pb.nx + 1)
    y = np.arange(1, pb.ny + 1) / (pb.ny + 1)
    mode = np.outer(np.sin(np.pi * y), np.sin(2 * np.pi * x))
    assert abs(float(mode.ravel() @ u.ravel())) / (np.linalg.norm(mode) * np.linalg.norm(u)) > 1 - 1e-10


def test_sparse_bordered_solve_and_determinant_sign():
    rng = np.random.default_rng(3)
    A = scipy.sparse.random(40, 41, density=0.2, random_state=4, format="csc") + scipy.sparse.eye(40, 41)
    b = rng.standard_normal(41)
    r = rng.standard_normal(40)
    z = sparse_bordered_solve(A, b, r, 0.7, 1e13)
    dense = np.vstack([A.toarray(), b])
    np.testing.assert_allclose(dense @ z, np.append(r, 0.7), atol=1e-10)
    sign, logdet = splu_slogdet(bordered_splu(A, b, 1e13))
    assert (sign, logdet) == pytest.approx(tuple(np.linalg.slogdet(dense)), rel=1e-10)
    sv, V = near_kernel(A, b)
    assert sv[0] == pytest.approx(scipy.linalg.svdvals(dense)[-1], rel=1e-6)
    assert np.linalg.norm(dense @ V[:, 0]) == pytest.approx(sv[0], rel=1e-6)


def test_diagram_switches_at_every_branch_point_without_dense_matrices(no_dense_lu):
    pb = AllenCahn2D(nx=10, ny=8, lam_max=60.0)
    (mu11, _, _), (mu21, _, _) = pb.branch_points()
    d = diagram(pb, depth=1)
    assert d.success and not d.unswitched
    root, *kids = d.branches
    assert len(kids) == 4 and all(k.result.success and k.result.end_reason == "lam_end" for k in kids)
    ends = []
    for kid in kids:
        u = np.asarray(kid.result.p[-1])
        assert kid.result.lam[-1] == pytest.approx(60.0) and np.max(np.abs(u)) > 0.1  # off u = 0
        np.testing.assert_allclose(pb.H(u, 60.0), 0.0, atol=1e-8)
        ends.append(u.reshape(pb.ny, pb.nx))
    # the (2, 1) mode is odd in x: its two branches break the reflection x -> 1 - x and are
    # each other's mirror images
    pitchfork = [e for k, e in zip(kids, ends) if abs(k.result.lam[0] - mu21) < 1.0]
    assert len(pitchfork) == 2
    np.testing.assert_allclose(pitchfork[0][:, ::-1], pitchfork[1], atol=1e-7)
    assert not np.allclose(pitchfork[0][:, ::-1], pitchfork[0], atol=1e-3)
    # with a = 1 the (1, 1) bifurcation is transcritical: the branch leaving to lower λ turns at a fold
    folds = [sp for k in kids for sp in k.result.events("fold")]
    assert len(folds) == 1 and folds[0].lam < mu11


def test_sparse_jacobian_must_be_a_sparse_matrix():
    class Bad(AllenCahn2D):
        def dH_dp(self, p, lam):
            return super().dH_dp(p, lam).toarray()

    pb = Bad(nx=3, ny=3)
    with pytest.raises(ProblemError, match="sparse_jacobian is set"):
        check_problem(pb, pb.start())
    assert RealSystem(AllenCahn2D(nx=3, ny=3), 9).is_sparse
