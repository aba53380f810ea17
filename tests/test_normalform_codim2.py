"""Codimension-2 normal forms: BT (a, b), cusp (c) and generalised Hopf (l2) against closed forms."""

import autograd.numpy as anp
import numpy as np
import pytest
from click.testing import CliRunner

from pathtrack import Problem
from pathtrack.cli import main
from pathtrack.io import load
from pathtrack.normalform import Jet, bogdanov_takens_coefficients, cusp_coefficient, second_lyapunov
from pathtrack.twoparam import continue_curve

#: A non-orthogonal change of coordinates x = T y.
T = np.array([[1.3, 0.4], [-0.7, 0.9]])
TINV = np.linalg.inv(T)


class Changed(Problem):
    """The ODE plugin ``base`` in other coordinates (subclasses say which)."""

    is_ode_rhs = True

    def __init__(self, base):
        super().__init__()
        self.base = base


class Linear(Changed):
    """``y' = T⁻¹ f(T y)`` for the plugin ``base``: the same system in the coordinates ``x = T y``."""

    name = "linear-change"

    def H(self, p, lam):
        return anp.dot(TINV, self.base.H(anp.dot(T, p), lam))

    def dH_dp(self, p, lam):
        return TINV @ self.base.dH_dp(T @ np.asarray(p, dtype=float), lam) @ T


class NearIdentity(Changed):
    """``y' = (I + DQ(y))⁻¹ f(y + Q(y))`` with quadratic and cubic ``Q``: a nonlinear change of coordinates
    tangent to the identity, which leaves the normal-form coefficients as they are."""

    name = "near-identity"

    def H(self, p, lam):
        u, v = p[0], p[1]
        x = anp.stack([u + 0.3 * u * u - 0.5 * u * v + 0.2 * v ** 3, v + 0.4 * u * v - 0.6 * u ** 3])
        f = self.base.H(x, lam)
        a, b = 1 + 0.6 * u - 0.5 * v, -0.5 * u + 0.6 * v * v  # DQ + I, row by row
        c, d = 0.4 * v - 1.8 * u * u, 1 + 0.4 * u
        det = a * d - b * c
        return anp.stack([(d * f[0] - b * f[1]) / det, (a * f[1] - c * f[0]) / det])


class BTForm(Problem):
    """x' = y, y' = λ + a x² + b x y: a Bogdanov–Takens point at the origin, λ = 0."""

    name = "bt-form"
    is_ode_rhs = True
    parameters = {"a": 1.0, "b": -1.0}

    def H(self, p, lam):
        return anp.stack([p[1], lam + self.params["a"] * p[0] ** 2 + self.params["b"] * p[0] * p[1]])

    def dH_dp(self, p, lam):
        x, y = float(p[0]), float(p[1])
        a, b = self.params["a"], self.params["b"]
        return np.array([[0.0, 1.0], [2 * a * x + b * y, b * x]])


class BautinForm(Problem):
    """ż = (λ + iω) z + c₁ z|z|² + c₂ z|z|⁴ in x = Re z, y = Im z; l1 = 2 Re c₁/ω, l2 = 4 Re c₂/ω at λ = 0."""

    name = "bautin-form"
    is_ode_rhs = True
    parameters = {"omega": 1.3, "c1": 0.7j, "c2": -0.8 + 0.4j}

    def _coef(self, r2, lam):
        c1, c2 = complex(self.params["c1"]), complex(self.params["c2"])
        re = lam + c1.real * r2 + c2.real * r2 * r2
        im = self.params["omega"] + c1.imag * r2 + c2.imag * r2 * r2
        return re, im

    def H(self, p, lam):
        x, y = p[0], p[1]
        re, im = self._coef(x * x + y * y, lam)
        return anp.stack([re * x - im * y, im * x + re * y])

    def dH_dp(self, p, lam):
        x, y = float(p[0]), float(p[1])
        r2 = x * x + y * y
        re, im = self._coef(r2, lam)
        c1, c2 = complex(self.params["c1"]), complex(self.params["c2"])
        dre, dim = c1.real + 2 * c2.real * r2, c1.imag + 2 * c2.imag * r2  # ∂/∂(r²)
        return np.array([[re + 2 * x * (x * dre - y * dim), -im + 2 * y * (x * dre - y * dim)],
                         [im + 2 * x * (x * dim + y * dre), re + 2 * y * (x * dim + y * dre)]])


class CuspForm(Problem):
    """x' = λ + μx + c₀x³ + dxy, y' = −y + ex²: at μ = 0 a cusp at the origin with c = c₀ + de (centre
    manifold y = ex²)."""

    name = "cusp-form"
    is_ode_rhs = True
    parameters = {"c0": -0.6, "d": 0.5, "e": 1.5, "mu": 0.0}

    def H(self, p, lam):
        P = self.params
        x, y = p[0], p[1]
        return anp.stack([lam + P["mu"] * x + P["c0"] * x ** 3 + P["d"] * x * y, -y + P["e"] * x * x])

    def dH_dp(self, p, lam):
        P = self.params
        x, y = float(p[0]), float(p[1])
        return np.array([[P["mu"] + 3 * P["c0"] * x * x + P["d"] * y, P["d"] * x], [2 * P["e"] * x, -1.0]])


ORIGIN = np.zeros(2)


@pytest.mark.parametrize("a, b", [(1.0, -1.0), (1.5, 0.7), (-0.4, 2.0), (-2.0, -0.3)])
def test_bogdanov_takens_coefficients_of_the_normal_form(a, b):
    for method in ("autograd", "fd"):
        nf = bogdanov_takens_coefficients(BTForm(a=a, b=b), ORIGIN, 0.0, method=method)
        assert nf["a"] == pytest.approx(a, abs=1e-10) and nf["b"] == pytest.approx(b, abs=1e-10)


def test_bogdanov_takens_coefficients_after_changes_of_coordinates():
    a, b = 1.5, -0.7
    # x = T y: the chain is T⁻¹q₀ scaled to unit length, so (a, b) are multiplied by ±1/‖T⁻¹q₀‖
    u = TINV @ np.array([1.0, 0.0])
    alpha = np.sign(u[np.argmax(np.abs(u))]) / np.linalg.norm(u)
    nf = bogdanov_takens_coefficients(Linear(BTForm(a=a, b=b)), ORIGIN, 0.0)
    assert nf["a"] == pytest.approx(alpha * a, abs=1e-10) and nf["b"] == pytest.approx(alpha * b, abs=1e-10)
    nf = bogdanov_takens_coefficients(NearIdentity(BTForm(a=a, b=b)), ORIGIN, 0.0)
    assert nf["a"] == pytest.approx(a, abs=1e-10) and nf["b"] == pytest.approx(b, abs=1e-10)


@pytest.mark.parametrize("omega, c1, c2", [(1.3, 0.7j, -0.8 + 0.4j), (0.6, -0.2j, 1.1 - 0.5j),
                                           (2.0, 0.25 + 0.3j, -0.3 + 0.0j)])
def test_second_lyapunov_coefficient_of_the_bautin_form(omega, c1, c2):
    nf = second_lyapunov(BautinForm(omega=omega, c1=c1, c2=c2), ORIGIN, 0.0)  # analytic dH_dp: differences
    assert nf["omega"] == pytest.approx(omega, abs=1e-12)
    assert nf["l1"] == pytest.approx(2 * c1.real / omega, abs=1e-9)
    assert nf["l2"] == pytest.approx(4 * c2.real / omega, abs=1e-8)


def test_second_lyapunov_coefficient_after_a_linear_change_of_coordinates():
    omega, c1, c2 = 1.3, 0.7j, -0.8 + 0.4j
    base = BautinForm(omega=omega, c1=c1, c2=c2)
    nf = second_lyapunov(base, ORIGIN, 0.0, method="autograd")  # exact derivatives: exact up to rounding
    assert nf["l1"] == pytest.approx(0.0, abs=1e-12)
    assert nf["l2"] == pytest.approx(4 * c2.real / omega, abs=1e-12)
    # x = T y: q becomes T⁻¹q, of length ρ, so z scales by ρ and l2 by 1/ρ⁴
    rho = np.linalg.norm(TINV @ np.array([1.0, -1j]) / np.sqrt(2))
    nf = second_lyapunov(Linear(base), ORIGIN, 0.0)
    assert nf["l2"] == pytest.approx(4 * c2.real / omega / rho ** 4, abs=1e-9)


@pytest.mark.slow
def test_second_lyapunov_coefficient_after_a_nonlinear_change_of_coordinates():
    # a change tangent to the identity changes B, C, D and E but not l2 (where l1 = 0): every term of G₃₂
    omega, c1, c2 = 1.3, 0.7j, -0.8 + 0.4j
    nf = second_lyapunov(NearIdentity(BautinForm(omega=omega, c1=c1, c2=c2)), ORIGIN, 0.0, method="autograd")
    assert nf["l1"] == pytest.approx(0.0, abs=1e-12)
    assert nf["l2"] == pytest.approx(4 * c2.real / omega, abs=1e-10)


def test_cusp_coefficient_with_its_centre_manifold_term():
    for method in ("autograd", "fd"):
        nf = cusp_coefficient(CuspForm(), ORIGIN, 0.0, method=method)
        assert nf["a"] == pytest.approx(0.0, abs=1e-12) and nf["c"] == pytest.approx(-0.6 + 0.75, abs=1e-10)
    # x = T y scales the amplitude along q by ρ = ‖T⁻¹q‖: c by 1/ρ²
    rho = np.linalg.norm(TINV @ np.array([1.0, 0.0]))
    nf = cusp_coefficient(Linear(CuspForm(c0=-2.0, d=0.5, e=1.5)), ORIGIN, 0.0)
    assert nf["c"] == pytest.approx((-2.0 + 0.75) / rho ** 2, abs=1e-10)


def test_jet_differences_agree_with_autograd_on_a_transcendental_field():
    class Field(Problem):
        name = "field"

        def H(self, p, lam):
            return anp.stack([anp.exp(p[0]) * anp.sin(p[1]) + lam * p[0], anp.cos(p[0] * p[1]) - p[1] ** 3])

    x = np.array([0.3, -0.4])
    exact, fd = Jet(Field(), x, 0.1, "autograd"), Jet(Field(), x, 0.1, "fd")
    assert Jet(Field(), x, 0.1).method == "autograd"
    q = np.array([0.6, 0.8j])
    h = np.array([0.2 - 0.1j, 1.0])
    u, v = q.real, q.imag
    # measured: orders 2 to 4 within 4e-11 of autograd's, this fifth-order form within 7e-10 (the six real
    # fifth-order forms of (q, q, q, q̄, q̄) together: 1.2e-8)
    for args, tol in (((q, h), 1e-10), ((q, q, np.conj(q)), 1e-10), ((q, q, np.conj(q), h), 1e-10),
                      ((u, u, u, v, v), 5e-8)):
        want = exact.form(*args)
        assert np.abs(fd.form(*args) - want).max() <= tol * max(1.0, np.abs(want).max())


def test_codimension_2_points_of_curves_carry_their_coefficients(tmp_path):
    # the fold curve of CuspForm in μ (folds where μ + 3(c₀ + de)x² = 0): CP at λ = μ = 0, c = c₀ + de = −0.15
    fold_pb = CuspForm(mu=0.05, c0=-0.9, d=0.5, e=1.5)
    x0 = -np.sqrt(0.05 / 0.45)
    fold = (np.array([x0, 1.5 * x0 * x0]), -(0.05 * x0 - 0.15 * x0 ** 3))
    out = str(tmp_path / "fold.h5")
    curve = continue_curve(fold_pb, fold, "mu", kind="fold", direction=-1, lam_min=-0.1, lam_max=0.06,
                           out=out, options={"max_ds": 0.1})
    (cp,) = curve.events("cusp")
    assert cp.lam == pytest.approx(0.0, abs=1e-8)
    assert cp.extra["c"] == pytest.approx(-0.9 + 0.75, abs=1e-8)
    with load(out) as f:
        (ev,) = [e for e in f.events if e["kind"] == "cusp"]
        assert ev["c"] == cp.extra["c"]
    res = CliRunner().invoke(main, ["inspect", out])
    assert res.exit_code == 0 and f"c={cp.extra['c']:.10g}" in res.output, res.output


class Bautin3(Changed):
    """The Bautin form with a stable third unknown, z' = −2z, seen through x = y + Q(y), a nonlinear change
    tangent to the identity that couples z to the plane quadratically: the centre manifold is curved and
    the solves of the homological equation see the third eigenvalue; l1, l2 stay those of the form."""

    name = "bautin-3"

    def H(self, p, lam):
        u, v, w = p[0], p[1], p[2]
        x = anp.stack([u + 0.5 * u * w, v - 0.3 * v * w + 0.2 * w * w, w + 0.7 * u * v - 0.4 * u * u])
        f2 = self.base.H(x[:2], lam)
        f = anp.stack([f2[0], f2[1], -2.0 * x[2]])
        # (I + DQ)⁻¹ f by Cramer's rule (autograd's forward mode has no rule for linalg.solve)
        m = [[1 + 0.5 * w, 0.0, 0.5 * u], [0.0, 1 - 0.3 * w, -0.3 * v + 0.4 * w],
             [0.7 * v - 0.8 * u, 0.7 * u, 1.0]]

        def det3(a):
            return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                    - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                    + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))

        d = det3(m)
        cols = [[[f[i] if j == k else m[i][j] for j in range(3)] for i in range(3)] for k in range(3)]
        return anp.stack([det3(c) / d for c in cols])


@pytest.mark.slow
def test_second_lyapunov_coefficient_with_a_curved_centre_manifold_in_three_unknowns():
    omega, c1, c2 = 1.3, 0.7j, -0.8 + 0.4j
    nf = second_lyapunov(Bautin3(BautinForm(omega=omega, c1=c1, c2=c2)), np.zeros(3), 0.0, method="autograd")
    assert nf["method"] == "autograd"  # not fallen back to differences
    assert nf["omega"] == pytest.approx(omega, abs=1e-12) and nf["l1"] == pytest.approx(0.0, abs=1e-12)
    assert nf["l2"] == pytest.approx(4 * c2.real / omega, abs=1e-10)
