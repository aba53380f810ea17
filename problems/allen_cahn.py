"""2-D Allen–Cahn (Chafee–Infante) steady states Δu + λu + a·u² − u³ = 0 with a sparse Jacobian.

On the rectangle ``(0, 1) × (0, ly)`` with ``u = 0`` on the boundary, discretised by the
five-point Laplacian on ``nx × ny`` interior points (``nx·ny`` unknowns). ``u = 0`` solves the
problem for every λ; it loses stability at every eigenvalue of ``−Δ_h``,

    μ_jk = (4/hx²) sin²(jπ/(2(nx+1))) + (4/hy²) sin²(kπ/(2(ny+1))),

where a branch of non-trivial states bifurcates. With ``a = 0`` the problem is odd in ``u``
and every such point is a pitchfork; with ``a ≠ 0`` the modes with ``∫φ³ ≠ 0`` (``j`` and
``k`` odd) bifurcate transcritically (one side turns back at a fold), while the modes odd in
``x`` or ``y`` stay symmetry-breaking pitchforks. ``ly`` away from a ratio of small integers
keeps the eigenvalues simple. :meth:`AllenCahn2D.branch_points` gives the μ_jk below ``lam_max``.

``dH_dp`` is a ``scipy.sparse`` matrix, so the engine solves every bordered system with a
sparse LU (:mod:`pathtrack.sparse`) at any grid size.
"""

import numpy as np
import scipy.sparse

from pathtrack.problem import Problem, ProblemError, StartPoint


def _laplacian_1d(n: int, h: float):
    main = np.full(n, -2.0 / h ** 2)
    off = np.full(n - 1, 1.0 / h ** 2)
    return scipy.sparse.diags([off, main, off], [-1, 0, 1], format="csr")


class AllenCahn2D(Problem):
    """Steady states of the 2-D Allen–Cahn equation on a rectangle, ``nx·ny`` unknowns.

    The path starts on ``u = 0`` at λ = ``lam_min`` and follows it to ``lam_max``; ``pathtrack
    diagram`` switches onto the branches born at the branch points on the way.
    """

    name = "allen-cahn2d"
    description = "2-D Allen-Cahn lap(u) + lam u + a u^2 - u^3 on a rectangle, sparse Jacobian, pitchforks at eig(-lap)"
    sparse_jacobian = True
    parameters = {"nx": 100, "ny": 100, "ly": 0.8, "a": 1.0, "lam_min": 5.0, "lam_max": 80.0}
    default_options = {"parameterisation": "arclength", "direction": 1, "initial_ds": 0.5, "max_ds": 5.0,
                       "max_steps": 400, "newton_tol": 1e-10}

    def __init__(self, **params):
        super().__init__(**params)
        self.nx, self.ny = int(self.params["nx"]), int(self.params["ny"])
        if self.nx < 2 or self.ny < 2:
            raise ProblemError(f"allen-cahn2d: nx and ny must be >= 2, got {self.nx}, {self.ny}")
        self.ly = float(self.params["ly"])
        if not self.ly > 0.0:
            raise ProblemError(f"allen-cahn2d: ly must be positive, got {self.ly}")
        self.a = float(self.params["a"])
        self.lam_min, self.lam_max = float(self.params["lam_min"]), float(self.params["lam_max"])
        self.lam_start, self.lam_end = self.lam_min, self.lam_max
        self.hx, self.hy = 1.0 / (self.nx + 1), self.ly / (self.ny + 1)
        # u is stored row by row: index i + nx·j for the point (x_i, y_j)
        self.L = (scipy.sparse.kron(scipy.sparse.identity(self.ny), _laplacian_1d(self.nx, self.hx))
                  + scipy.sparse.kron(_laplacian_1d(self.ny, self.hy), scipy.sparse.identity(self.nx))).tocsr()

    def H(self, p, lam):
        return self.L @ p + lam * p + self.a * p ** 2 - p ** 3

    def dH_dp(self, p, lam):
        return (self.L + scipy.sparse.diags(lam + 2.0 * self.a * p - 3.0 * p ** 2)).tocsc()

    def dH_dlam(self, p, lam):
        return np.array(p, dtype=float)

    def jvp(self, p, lam, v):
        return self.L @ v + (lam + 2.0 * self.a * p - 3.0 * p ** 2) * v

    def start(self):
        return StartPoint(np.zeros(self.nx * self.ny), self.lam_start)

    def metrics(self, p, lam):
        n = self.nx * self.ny
        return {"u_max": float(np.max(p)) if n else 0.0, "u_min": float(np.min(p)) if n else 0.0,
                "l2": float(np.sqrt(self.hx * self.hy) * np.linalg.norm(p))}

    def eigenvalue(self, j: int, k: int) -> float:
        """``μ_jk`` of ``−Δ_h``: the branch point of mode ``(j, k)`` on ``u = 0``."""
        return float(4.0 / self.hx ** 2 * np.sin(j * np.pi / (2 * (self.nx + 1))) ** 2
                     + 4.0 / self.hy ** 2 * np.sin(k * np.pi / (2 * (self.ny + 1))) ** 2)

    def branch_points(self):
        """``[(μ_jk, j, k)]`` inside ``(lam_min, lam_max)``, ascending: the branch points on ``u = 0``."""
        out = [(self.eigenvalue(j, k), j, k) for j in range(1, self.nx + 1) for k in range(1, self.ny + 1)]
        return sorted(t for t in out if self.lam_min < t[0] < self.lam_max)
