"""Certification of regular solutions by the interval Krawczyk test (pathtrack.polynomial.certify)."""

import json
import math
import sys
from decimal import Decimal, getcontext
from pathlib import Path

import h5py
import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from pathtrack import Status
from pathtrack.cli import main
from pathtrack.io import StorageError, open_file
from pathtrack.polynomial import CertifyUnavailable, certify, family, parse_polynomials, solve
from pathtrack.polynomial.certify import NOT_REAL, REAL, UNDECIDED


def _contains(result, k, root, slack=0.0):
    """Whether box ``k`` of ``result`` holds the point ``root`` (coordinates compared part by part)."""
    c, r = result.centers[k], result.radii[k] + slack
    return bool(np.all(np.abs(c.real - np.real(root)) <= r) and np.all(np.abs(c.imag - np.imag(root)) <= r))


def test_sqrt2_both_roots_certified_real_and_in_their_boxes():
    res = solve(["x^2 - 2"], certify=True)
    cert = res.certificate
    assert (cert.n_certified, cert.n_certified_distinct, cert.n_certified_real) == (2, 2, 2)
    assert cert.status is Status.success and list(cert.real) == [REAL, REAL]
    roots = sorted(cert.centers[:, 0].real)
    assert roots == pytest.approx([-math.sqrt(2), math.sqrt(2)], abs=1e-15)
    for k in range(2):  # the exact root sqrt(2) is within half an ulp of math.sqrt(2)
        s = math.copysign(math.sqrt(2), cert.centers[k, 0].real)
        assert 0 < cert.radii[k] < 1e-12 and _contains(cert, k, s, slack=math.ulp(2.0))
    summary = res.summary()
    assert (summary["n_certified"], summary["n_certified_distinct"], summary["n_certified_real"]) == (2, 2, 2)


def _real_roots_by_elimination(system):
    """Real roots of a system in shape position, counted by Sturm sequences on its lex Gröbner basis."""
    xs = sp.symbols(system.variables)
    polys = [sum(sp.nsimplify(float(c.real)) * sp.Mul(*[x ** int(k) for x, k in zip(xs, row)])
                 for row, c in zip(e, cs)) for e, cs in zip(system.exponents, system.coefficients)]
    basis = sp.groebner(polys, *xs, order="lex")
    last = sp.Poly(basis.exprs[-1], xs[-1])
    # shape position: every other generator is x_i - g_i(x_n), so roots <-> roots of the last one
    assert last.degree() == 2 ** (system.n_variables - 1) and len(basis.exprs) == system.n_variables
    assert all(sp.Poly(g, xs[i]).degree() == 1 for i, g in enumerate(basis.exprs[:-1]))
    return last.count_roots()


def _mp_root(system, start):
    """The root of ``system`` next to ``start`` by mpmath's Newton at 60 digits, rounded to complex."""
    import mpmath as mp

    terms = [list(zip(e.tolist(), c.tolist())) for e, c in zip(system.exponents, system.coefficients)]

    def F(*x):
        return [mp.fsum(mp.mpc(c) * mp.fprod(xi ** k for xi, k in zip(x, row)) for row, c in eq) for eq in terms]

    with mp.workdps(60):
        root = mp.findroot(F, [mp.mpc(z) for z in start], tol=mp.mpf(10) ** -50, maxsteps=20)
        return np.array([complex(z) for z in root])


@pytest.mark.parametrize("spec, n_roots", [("katsura:3", 8), ("katsura:4", 16), ("cyclic:5", 70)])
def test_every_regular_root_certified_and_counted(spec, n_roots):
    res = solve(spec, seed=1, certify=True)
    cert = res.certificate
    assert res.n_regular == n_roots
    assert cert.n_certified == n_roots and cert.n_certified_distinct == n_roots
    assert cert.n_unproven_overlaps == 0 and not np.any(cert.real == UNDECIDED)
    # the floating-point test of the solver, which knows nothing of the certificates
    assert cert.n_certified_real == len(res.real_solutions())
    if spec == "katsura:3":  # exact: Sturm sequences on the eliminant of the Gröbner basis
        assert cert.n_certified_real == _real_roots_by_elimination(family(spec)) == 6
    if spec.startswith("katsura"):  # each box holds the root Newton finds from its centre at 60 digits
        for k in range(n_roots):
            root = _mp_root(res.system, cert.centers[k])  # rounded to double: half an ulp of slack
            assert _contains(cert, k, root, slack=math.ulp(np.abs(root).max()))
    # a box proved real is symmetric about the real axis within its radius; one proved not real is not
    far = np.max(np.abs(cert.centers.imag), axis=1) > cert.radii
    assert np.all(far[cert.real == NOT_REAL]) and not np.any(far[cert.real == REAL])
    # each box is tight around a point where F is tiny
    assert np.all(cert.radii < 1e-12 * (1 + np.abs(cert.centers).max(axis=1)))
    assert np.all(np.abs(np.array([res.system.evaluate(c) for c in cert.centers])) < 1e-12)


def test_badly_scaled_system_certified_on_its_own_coefficients():
    # comb3000: coefficients from 1 to 2e-15, roots near 1e-5; solved on the balanced system,
    # certified on the one given
    res = solve(str(Path(__file__).parent / "data" / "comb3000.phc"), certify=True)
    cert = res.certificate
    assert res.scaling is not None and res.n_regular == 16
    assert (cert.n_certified, cert.n_certified_distinct) == (16, 16)
    assert cert.n_certified_real == len(res.real_solutions()) == 4
    # every box is far smaller than the smallest coordinate of its root
    assert np.all(cert.radii < 1e-6 * np.abs(cert.centers).min(axis=1))


def test_double_root_is_not_certified_singular():
    system = parse_polynomials(["x^2 - 2*x + 1", "y - 2"])
    res = solve(system)
    assert res.n_regular == 0 and len(res.singular_solutions) == 1
    points = np.vstack([res.singular_solutions, [[1 + 1e-8, 2]], [[1 - 3e-9, 2]]])
    cert = certify(system, points)
    assert cert.n_certified == 0 and cert.n_certified_distinct == 0
    assert list(cert.solution_status) == [int(Status.singular_jacobian)] * 3
    assert cert.status is Status.singular_jacobian and "3 of 3" in cert.message


def test_near_roots_certified_distinct_with_small_boxes():
    # (x^2 - 2)(x^2 - 2 - 2^-30): exact double coefficients, roots ±sqrt(2) and ±sqrt(2 + 2^-30),
    # 3.3e-10 apart
    eps = 2.0 ** -30
    system = parse_polynomials([f"x^4 - {4 + eps!r}*x^2 + {4 + 2 * eps!r}"])
    roots = np.array([math.sqrt(2), math.sqrt(2 + eps), -math.sqrt(2), -math.sqrt(2 + eps)])
    gap = roots[1] - roots[0]
    assert 3e-10 < gap < 4e-10
    for points in (roots, roots + np.array([1, -1, 1, -1]) * 2e-14):
        cert = certify(system, points.reshape(-1, 1))
        assert (cert.n_certified, cert.n_certified_distinct, cert.n_certified_real) == (4, 4, 4)
        assert np.all(cert.radii < gap / 100)
        for k, root in enumerate(roots):  # each box holds its own closed-form root (to the rounding of sqrt)
            assert _contains(cert, k, root, slack=math.ulp(2.0))


def test_same_root_twice_is_one_distinct_root():
    points = [[math.sqrt(2), 1j], [math.sqrt(2) * (1 + 1e-15), 1j], [-1.4142, -1j]]
    cert = certify(["x^2 - 2", "y^2 + 1"], points)
    assert cert.n_certified == 2 and cert.n_certified_distinct == 1 and cert.n_unproven_overlaps == 0
    assert cert.root[0] == cert.root[1] and cert.root[2] == -1
    assert cert.solution_status[2] == int(Status.box_too_large)
    assert list(cert.real[:2]) == [NOT_REAL, NOT_REAL] and cert.n_certified_real == 0


def test_perturbed_solutions_are_not_certified():
    res = solve("katsura:3", seed=0)
    cert = certify(res.system, res.solutions + 1e-3)
    assert cert.n_certified == 0 and set(cert.solution_status) == {int(Status.box_too_large)}
    assert np.all(cert.radii == 0) and np.all(cert.root == -1)
    # a perturbation well inside max_radius is refined by the Newton steps and certified
    assert certify(res.system, res.solutions + 1e-9).n_certified == 8


def test_conjugate_pair_and_complex_coefficients():
    cert = certify(["x^2 + 1"], [[1j], [-1j]])
    assert cert.n_certified == 2 and list(cert.real) == [NOT_REAL, NOT_REAL]
    # (x - i)(x - 2): the real root 2 of a system with complex coefficients is not proved real
    cert = certify(["x^2 - (2 + i)*x + 2*i"], [[1j], [2.0]])
    assert cert.n_certified == 2 and list(cert.real) == [NOT_REAL, UNDECIDED] and cert.n_certified_real == 0


def test_coefficient_balls_cover_the_decimal_system():
    # 0.1 is not a double: with balls of half an ulp the box also holds sqrt of the decimal 0.1
    getcontext().prec = 50
    exact = float(Decimal("0.1").sqrt())
    cert = certify(["x^2 - 0.1"], [[math.sqrt(0.1)]], coefficient_radius=2.0 ** -53)
    assert cert.n_certified == 1 and cert.real[0] == REAL
    c, r = Decimal(cert.centers[0, 0].real), Decimal(cert.radii[0])
    assert c - r < Decimal("0.1").sqrt() < c + r and abs(exact - math.sqrt(0.1)) <= math.ulp(0.3)


def test_bad_input():
    with pytest.raises(ValueError, match="square"):
        certify(["x^2 - 1", "y - 1", "x - y"], [[1, 1]])
    with pytest.raises(ValueError, match="shape"):
        certify(["x^2 - 1", "y - 1"], [[1, 1, 1]])
    with pytest.raises(ValueError, match="max_radius"):
        certify(["x^2 - 2"], [[1.4]], max_radius=float("nan"))
    with pytest.raises(ValueError, match="complex numbers"):
        certify(["x^2 - 1", "y - 1"], [["a", 1]])
    cert = certify(["x^3 - 2"], [[float("nan")], [2 ** (1 / 3)], [1e200], [1e100]])
    # J(1e200) overflows in double; at 1e100 the Newton step is far beyond max_radius
    assert list(cert.solution_status) == [int(Status.nonfinite), int(Status.success), int(Status.nonfinite),
                                          int(Status.box_too_large)]
    empty = certify(["x^2 - 2"], np.empty((0, 1)))
    assert empty.n_solutions == 0 and empty.status is Status.success


def test_without_python_flint_one_line_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)  # makes `import flint` raise ImportError
    with pytest.raises(CertifyUnavailable, match=r"pathtrack\[certify\]"):
        certify(["x^2 - 2"], [[1.4]])
    r = CliRunner().invoke(main, ["solve", "katsura:3", "--certify"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and "pathtrack[certify]" in lines[0]


def test_cli_certify_json_text_and_hdf5(tmp_path):
    out = tmp_path / "k3.h5"
    runner = CliRunner()
    r = runner.invoke(main, ["solve", "katsura:3", "--certify", "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert (summary["n_certified"], summary["n_certified_distinct"], summary["n_certified_real"]) == (8, 8, 6)
    assert "certificates" not in summary
    r = runner.invoke(main, ["solve", "katsura:3", "--certify", "--json", "--solutions"])
    rows = json.loads(r.output)["certificates"]
    assert len(rows) == 8 and {row["status"] for row in rows} == {"success"}
    assert sum(row["real"] == REAL for row in rows) == 6 and sorted(row["root"] for row in rows) == list(range(8))
    assert all(0 < row["radius"] < 1e-12 for row in rows)
    r = runner.invoke(main, ["solve", "katsura:3", "--certify"])
    assert r.exit_code == 0 and "certified   8 of 8 regular (8 distinct, 6 real" in r.output
    with open_file(out) as f:
        cert = f.certificate
        assert set(cert) == {"center", "radius", "status", "real", "root"}
        assert np.all(np.abs(cert["center"] - f.data["solutions/regular"]) < 1e-12)
        assert np.all(cert["status"] == int(Status.success)) and int(np.sum(cert["real"] == REAL)) == 6
        assert f.summary()["n_certified"] == 8
    r = runner.invoke(main, ["inspect", str(out)])
    assert r.exit_code == 0 and "n_certified 8" in r.output
    with h5py.File(out, "a") as h:
        del h["certificate/root"]
    with pytest.raises(StorageError, match="certificate/root"):
        open_file(out)
    plain = tmp_path / "plain.h5"
    assert runner.invoke(main, ["solve", "katsura:3", "--out", str(plain)]).exit_code == 0
    with open_file(plain) as f:
        assert f.certificate is None and "n_certified" not in f.summary()


def test_docs_examples_run_and_print_what_they_show():
    import doctest
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "solving_systems.md").read_text()
    section = text.split("## Certified solutions", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```pycon\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    test = doctest.DocTestParser().get_doctest(blocks[0], {}, "certified solutions", None, 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0 and len(test.examples) == 5
