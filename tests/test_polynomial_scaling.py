"""Scaling of equations and variables before tracking, and endpoint decisions that do not depend on scale."""

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pathtrack.options import OptionsError
from pathtrack.polynomial import PolynomialSystem, SolveOptions, as_system, solve
from pathtrack.polynomial.scaling import balance, rms_log10

COMB3000 = os.path.join(os.path.dirname(__file__), "data", "comb3000.phc")

# PHCpack's own scaling of comb3000 (its demo file comb3000s, "SCALING COEFFICIENTS", base 2,
# rounded): variables x2 x6 x9 x10 x3 x8 x1 x5 x4 x7, then the ten equations.
PHC_VARIABLE_EXPONENTS = [-21, -19, -17, -17, -17, -16, -20, -17, -30, -18]
PHC_EQUATION_EXPONENTS = [18, 16, 17, 21, 41, 42, 63, 38, 41, 64]
# PHCpack's solution 1 of comb3000, in the same variable order.
PHC_ROOT = [2.44157718332959e-07, 5.92025990052519e-07, 5.53814405529183e-07, 4.00898794801641e-06,
            1.54714076656939e-05, 1.45285923343061e-05, 1.40505656302463e-07, 3.84049827922917e-07,
            6.25149147668167e-11, 4.99996874254262e-06]


def rescaled(system, eq_exp10, var_exp10):
    """``10**eq_exp10[i] · F_i(10**var_exp10 · x)``: the same roots, divided by ``10**var_exp10``."""
    eq_exp10, var_exp10 = np.asarray(eq_exp10, float), np.asarray(var_exp10, float)
    coefs = tuple(c * 10.0 ** (eq_exp10[i] + e @ var_exp10)
                  for i, (e, c) in enumerate(zip(system.exponents, system.coefficients)))
    return PolynomialSystem(system.variables, system.exponents, coefs, system.name)


def counts(res):
    return res.n_regular, res.n_singular, res.n_at_infinity, res.n_failed, res.multiplicities.tolist()


def test_balance_reproduces_phcpack_scaling_of_comb3000():
    system = as_system(COMB3000)
    assert system.variables == ("x2", "x6", "x9", "x10", "x3", "x8", "x1", "x5", "x4", "x7")
    scaling = balance(system)
    assert scaling.variable_exponents.tolist() == PHC_VARIABLE_EXPONENTS
    assert scaling.equation_exponents.tolist() == PHC_EQUATION_EXPONENTS
    assert scaling.rms_before > 4.5 and scaling.rms_after < 1.0
    assert rms_log10(scaling.apply(system)) == scaling.rms_after


def test_scaling_and_unscaling_are_exact():
    system = as_system(["1e-8*x^2 + 3e4*x*y - 2", "5e6*y^3 - 7e-3*x"])
    scaling = balance(system)
    scaled = scaling.apply(system)
    y = np.array([[0.3 + 0.1j, -2.0 + 0.5j]])
    x = scaling.unscale(y)
    # F_scaled(y) = 2^c · F(2^d · y), with powers of two only: equal to the last bit or nearly
    want = np.ldexp(1.0, scaling.equation_exponents) * system.evaluate(x[0])
    assert np.allclose(scaled.evaluate(y[0]), want, rtol=1e-15, atol=0)
    assert np.array_equal(scaling.unscale(np.hstack([[[0.5]], y]), homogeneous=True)[:, 1:], x)


def test_comb3000_all_16_roots_with_scaling_none_without():
    """PHCpack's combustion demo: badly scaled coefficients send every path to infinity unscaled."""
    res = solve(COMB3000, seed=3)
    assert res.scaling is not None
    assert (res.n_paths, res.n_regular, res.n_singular, res.n_at_infinity, res.n_failed) == (96, 16, 0, 80, 0)
    assert res.is_complete
    for x, r in zip(res.solutions, res.residuals):  # residuals of the system as given
        assert np.linalg.norm(res.system.evaluate(x)) == pytest.approx(r, abs=1e-25)
        assert r < 1e-18
    assert np.min(np.linalg.norm(res.solutions - np.array(PHC_ROOT), axis=1)) < 1e-12
    assert json.loads(json.dumps(res.summary()))["scaling"]["variable_exponents"] == PHC_VARIABLE_EXPONENTS

    # Unscaled, the compiled tracker calls every path infinite; the tail stage (in s = 1 - t) finds
    # some roots, and the paths it does not settle are failed paths, never counted at infinity.
    raw = solve(COMB3000, seed=3, options=SolveOptions(scaling=False))
    assert raw.scaling is None
    assert raw.counters["n_tail"] == 96
    assert raw.n_at_infinity == 80 and raw.n_regular + raw.n_failed == 16
    assert raw.is_complete == (raw.n_failed == 0)


@pytest.mark.parametrize("spec", ["katsura:5", "cyclic:5", "noon:4", "eco:5", "reimer:3"])
def test_auto_leaves_balanced_systems_alone(spec):
    assert solve(spec, seed=0).scaling is None


def test_scaling_option_is_validated():
    assert SolveOptions(scaling=True).scaling is True
    assert SolveOptions().to_dict()["scaling"] == "auto"
    for bad in ("yes", 1, None):
        with pytest.raises(OptionsError, match="scaling"):
            SolveOptions(scaling=bad)


# Small systems with regular, singular (double) and infinite endpoints.
SMALL = ["katsura:3", "eco:4", "noon:3", "x^2; y^2 - 1", "x^2*y - 1; x*y^2 - y - 2"]
REFERENCE = {spec: counts(solve(spec, seed=1)) for spec in SMALL}


def test_rescaled_twin_gives_the_same_counts():
    """Equations times 1e6 or 1e-6, variables x -> 1e3·x: the same roots, the same counts."""
    for spec in SMALL:
        system = as_system(spec)
        n = system.n_variables
        twin = rescaled(system, [6 if i % 2 else -6 for i in range(n)], [3] * n)
        assert counts(solve(twin, seed=1)) == REFERENCE[spec], spec


@pytest.mark.parametrize("spec", SMALL + ["cyclic:5"])
def test_endpoint_decisions_do_not_depend_on_equation_scales(spec):
    """Regular / singular / at infinity is decided on row-scaled residuals and Jacobians: the same
    endpoints, classified against the system with its equations multiplied by 1e6 or 1e-6, get
    the same kinds, and the same solutions."""
    from pathtrack.polynomial.kernels import END_DIRECT, END_INFINITY
    from pathtrack.polynomial.solver import AT_INFINITY, _classify

    system = as_system(spec)
    opts = SolveOptions(scaling=False)
    res = solve(system, seed=1, options=opts)
    n = system.n_variables
    twin = rescaled(system, [6 if i % 2 else -6 for i in range(n)], [0] * n)
    kinds = np.where(res.path_kind == AT_INFINITY, END_INFINITY, END_DIRECT)
    args = (res.path_endpoints, res.path_status, kinds, res.path_winding, opts)
    a, b = _classify(system, *args), _classify(twin, *args)
    assert np.array_equal(a["kind"], b["kind"])
    assert np.array_equal(a["multiplicity"], b["multiplicity"])
    assert np.allclose(a["regular"], b["regular"], rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_rescalings_keep_the_counts(data):
    spec = data.draw(st.sampled_from(SMALL))
    system = as_system(spec)
    n = system.n_variables
    eq = data.draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n))
    var = data.draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n))
    assert counts(solve(rescaled(system, eq, var), seed=1)) == REFERENCE[spec]


def test_solve_options_from_a_mapping_or_a_type_error():
    res = solve(["x^2 - 2"], seed=0, options={"max_ds": 0.05})
    assert res.options.max_ds == 0.05 and res.n_regular == 2
    with pytest.raises(TypeError, match="mapping of option names"):
        solve(["x^2 - 2"], options=[("max_ds", 0.05)])


@pytest.mark.slow
def test_failed_unscaled_solve_is_retried_balanced():
    # discret3s, seed 0: one path fails unscaled ('auto' leaves it so); balanced, all 128 roots
    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "corpus", "discret3s.phc")
    res = solve(path, seed=0)
    assert res.counters.get("n_scaling_retry") == 1
    assert res.n_regular == 128 and res.n_failed == 0 and res.is_complete
