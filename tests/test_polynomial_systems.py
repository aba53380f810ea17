"""Polynomial system representation, parsers, families and compiled evaluation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathtrack.polynomial import (PolynomialSyntaxError, PolynomialSystem, available_families, family, parse_phc,
                                  parse_polynomials, parse_system, read_phc)


def _dense_eval(system, x):
    """Reference: evaluate term by term with NumPy, and the Jacobian by central differences."""
    val = np.array([np.sum(c * np.prod(x ** e, axis=1)) for e, c in zip(system.exponents, system.coefficients)])
    h = 1e-6
    jac = np.empty((system.n_equations, system.n_variables), dtype=complex)
    for j in range(system.n_variables):
        d = np.zeros(system.n_variables, dtype=complex)
        d[j] = h
        fp = [np.sum(c * np.prod((x + d) ** e, axis=1)) for e, c in zip(system.exponents, system.coefficients)]
        fm = [np.sum(c * np.prod((x - d) ** e, axis=1)) for e, c in zip(system.exponents, system.coefficients)]
        jac[:, j] = (np.array(fp) - np.array(fm)) / (2 * h)
    return val, jac


def test_parse_both_power_operators_and_expansion():
    s = parse_polynomials(["x^2 + 4*y^2 - 4", "(x - y)**2 - 2*i*x*y/4"])
    assert s.variables == ("x", "y")
    x = np.array([0.3 + 0.1j, -1.2 + 0.5j])
    expected = [x[0] ** 2 + 4 * x[1] ** 2 - 4, (x[0] - x[1]) ** 2 - 0.5j * x[0] * x[1]]
    np.testing.assert_allclose(s.evaluate(x), expected, rtol=1e-14)
    assert s.degrees.tolist() == [2, 2]


def test_parse_system_string_and_explicit_variables():
    s = parse_system("y - x^3; x*y - 2.5e-1", variables=["x", "y"])
    assert s.variables == ("x", "y")
    np.testing.assert_allclose(s.evaluate([2.0, 1.0]), [1 - 8, 2 - 0.25])


def test_phc_file_scientific_imaginary_and_trailing_text(tmp_path):
    text = (" 2 2\n"
            " x^2 + 1.5E+00*i*y - 2.0e-1;\n"
            " x*y\n   - 3;\n"
            "\nTHE SOLUTIONS :\n 1 2\n anything here ; is ignored\n")
    path = tmp_path / "sys.phc"
    path.write_text(text)
    s = read_phc(path)
    assert s.variables == ("x", "y") and s.name == "sys"
    np.testing.assert_allclose(s.evaluate([1.0, 2.0]), [1 + 3j - 0.2, 2 - 3])


@pytest.mark.parametrize("text, line, column, words", [
    ("2\n x^2 + y;\n x*y +* 3;\n", 3, 7, "expected a number"),
    ("2\n x^2 + y;\n x*y + 3\n", 4, 1, "only 1"),
    ("2\n x^2.5 + y;\n x*y;\n", 2, 4, "exponent"),
    ("two\n x;\n", 1, 1, "first line"),
    ("2\n x^2 + y;\n x*y $ 1;\n", 3, 6, "unexpected character"),
    ("1 3\n x^2 + y;\n", 1, 1, "declares 3"),
    ("2\n (x + y;\n x;\n", 2, 8, "expected ')'"),
])
def test_phc_errors_name_line_and_column(text, line, column, words):
    with pytest.raises(PolynomialSyntaxError) as err:
        parse_phc(text, source="f.phc")
    assert (err.value.line, err.value.column) == (line, column)
    assert words in str(err.value)
    assert f"line {line}, column {column}" in str(err.value) and "\n" not in str(err.value)


def test_division_by_variable_is_an_error():
    with pytest.raises(PolynomialSyntaxError, match="divide by a constant"):
        parse_polynomials(["x/y"])


@pytest.mark.parametrize("spec, n, bezout", [
    ("katsura:5", 6, 32), ("cyclic:5", 5, 120), ("noon:5", 5, 243), ("eco:8", 8, 1458), ("reimer:4", 4, 120),
    ("random:3:2", 3, 8),
])
def test_families_shapes(spec, n, bezout):
    s = family(spec)
    assert s.n_equations == s.n_variables == n
    assert s.bezout_number == bezout


def test_family_errors_and_seeded_random():
    with pytest.raises(ValueError, match="katsura:n"):
        family("katsura:x")
    with pytest.raises(ValueError, match="unknown family 'nope'; registered: .*katsura"):
        family("nope:3")
    with pytest.raises(ValueError, match=r"random:n:d\[:seed\]"):
        family("random:2")
    with pytest.raises(ValueError, match="at least 2"):
        family("cyclic:1")
    with pytest.raises(ValueError, match="d must be at least 1"):
        family("random:2:0")
    assert {"katsura", "cyclic", "noon", "eco", "reimer", "random"} <= set(available_families())
    a, b, c = family("random:2:3:7"), family("random:2:3:7"), family("random:2:3:8")
    np.testing.assert_array_equal(a.coefficients[0], b.coefficients[0])
    assert not np.array_equal(a.coefficients[0], c.coefficients[0])


@pytest.mark.parametrize("spec", ["katsura:4", "cyclic:5", "eco:6", "noon:3", "reimer:3"])
def test_compiled_evaluation_matches_reference(spec):
    s = family(spec)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(s.n_variables) + 1j * rng.standard_normal(s.n_variables)
    val, jac = s.evaluate_with_jacobian(x)
    ref_val, ref_jac = _dense_eval(s, x)
    np.testing.assert_allclose(val, ref_val, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jac, ref_jac, rtol=1e-6, atol=1e-6)


def test_homogenize_lifts_every_term_to_the_degree():
    h = family("eco:5").homogenize()
    assert h.variables[0] == "h0"
    for e, d in zip(h.exponents, family("eco:5").degrees):
        assert (e.sum(axis=1) == d).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(-5, 5), st.floats(-5, 5)),
                min_size=1, max_size=6))
def test_text_round_trip(terms):
    exps = np.array([[a, b] for a, b, _, _ in terms])
    coefs = np.array([re + 1j * im for _, _, re, im in terms])
    s = PolynomialSystem(("x", "y"), (exps,), (coefs,))
    back = parse_polynomials(s.to_strings(), variables=("x", "y"))
    x = np.array([0.7 - 0.2j, -0.4 + 1.1j])
    np.testing.assert_allclose(back.evaluate(x), s.evaluate(x), rtol=1e-12, atol=1e-12)


def test_sympy_input():
    sympy = pytest.importorskip("sympy")
    x, y = sympy.symbols("x y")
    from pathtrack.polynomial import from_sympy

    s = from_sympy([x**2 + 4 * y**2 - 4, x * y - sympy.I])
    assert s.variables == ("x", "y")
    np.testing.assert_allclose(s.evaluate([1.0, 2.0]), [13, 2 - 1j])
