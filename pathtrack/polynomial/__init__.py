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
cacheload
    A warm start: the compiled tracker read from Numba's cache without preparing its compiler.
aotbuild, aotload
    The kernels a total-degree solve uses, compiled ahead of time at install, and their loader.
neighbours
    Close pairs of endpoints, directly for few points, with a k-d tree for many.

The parameter-homotopy names are imported on first use.
"""

from .._lazy import lazy_exports
from .aotload import install as _install_aot

_install_aot()  # the kernels compiled at install time, where they match the sources (before anything imports them)
from .certify import CertifyResult, CertifyUnavailable, certify
from .families import available_families, family, family_form, is_family_spec
from .parse import PolynomialSyntaxError, from_sympy, parse_phc, parse_polynomials, parse_system, read_phc
from .solver import (AT_INFINITY, FAILED, INTERRUPTED, KIND_NAMES, REGULAR, SINGULAR, SolveOptions, SolveResult,
                     as_system, solve)
from .start import total_degree_start
from .system import PackedSystem, PolynomialSystem

# Imported on first use, so that ``pathtrack solve`` does not load the parameter homotopies.
_LAZY = {"MonodromyResult": "monodromy", "monodromy_solve": "monodromy", "seed_pair": "monodromy",
         "trace_residual": "monodromy",
         "ParameterSolveResult": "parameter", "random_parameters": "parameter", "read_targets": "parameter",
         "solve_parameters": "parameter", "start_points": "parameter", "track_parameters": "parameter",
         "ParametrizedSystem": "parametric", "as_parametrized": "parametric"}

__all__ = ["PolynomialSystem", "PackedSystem", "PolynomialSyntaxError", "parse_polynomials", "parse_system",
           "parse_phc", "read_phc", "from_sympy", "family", "family_form", "is_family_spec", "available_families",
           "total_degree_start", "solve", "SolveOptions", "SolveResult", "as_system", "KIND_NAMES", "REGULAR",
           "SINGULAR", "AT_INFINITY", "FAILED", "INTERRUPTED", "certify", "CertifyResult", "CertifyUnavailable",
           "ParametrizedSystem", "as_parametrized", "track_parameters", "solve_parameters", "ParameterSolveResult",
           "start_points", "random_parameters", "read_targets", "monodromy_solve", "MonodromyResult", "seed_pair",
           "trace_residual"]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
