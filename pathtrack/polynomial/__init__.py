"""Polynomial systems: representation, parsers, start systems, the compiled tracker and :func:`solve`.

Modules
-------
system
    :class:`PolynomialSystem` (sparse exponents and coefficients) and its packed arrays.
parse
    Text (PHCpack format, ``;``-separated strings) and SymPy input.
families
    ``NAME:n`` specs looked up in the ``pathtrack.systems`` entry-point group.
start
    Start systems and their roots.
scaling
    Power-of-two balancing of equations and variables (PHCpack's scaling) before tracking.
kernels
    The jitted evaluator, path tracker and endgame: arrays in, status codes out.
solver
    :func:`solve`, :class:`SolveOptions` and :class:`SolveResult`: validates, allocates,
    runs the kernels and classifies endpoints.
certify
    :func:`certify` and :class:`CertifyResult`: the interval Krawczyk test of regular
    solutions in ball arithmetic (python-flint, the ``certify`` extra).
parametric
    :class:`ParametrizedSystem`: ``F(x; q)`` with coefficients polynomial in parameters ``q``.
parameter
    Parameter homotopies: :func:`track_parameters`, :func:`solve_parameters`.
monodromy
    :func:`monodromy_solve`: every solution of a generic member of a family from one seed.
"""

from .certify import CertifyResult, CertifyUnavailable, certify
from .families import available_families, family, family_form, is_family_spec
from .parse import PolynomialSyntaxError, from_sympy, parse_phc, parse_polynomials, parse_system, read_phc
from .solver import (AT_INFINITY, FAILED, INTERRUPTED, KIND_NAMES, REGULAR, SINGULAR, SolveOptions, SolveResult,
                     as_system, solve)
from .monodromy import MonodromyResult, monodromy_solve, seed_pair, trace_residual
from .parameter import (ParameterSolveResult, random_parameters, read_targets, solve_parameters, start_points,
                        track_parameters)
from .parametric import ParametrizedSystem, as_parametrized
from .start import total_degree_start
from .system import PackedSystem, PolynomialSystem

__all__ = ["PolynomialSystem", "PackedSystem", "PolynomialSyntaxError", "parse_polynomials", "parse_system",
           "parse_phc", "read_phc", "from_sympy", "family", "family_form", "is_family_spec", "available_families",
           "total_degree_start", "solve", "SolveOptions", "SolveResult", "as_system", "KIND_NAMES", "REGULAR",
           "SINGULAR", "AT_INFINITY", "FAILED", "INTERRUPTED", "certify", "CertifyResult", "CertifyUnavailable",
           "ParametrizedSystem", "as_parametrized", "track_parameters", "solve_parameters", "ParameterSolveResult",
           "start_points", "random_parameters", "read_targets", "monodromy_solve", "MonodromyResult", "seed_pair",
           "trace_residual"]
