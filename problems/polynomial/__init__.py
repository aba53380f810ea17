"""Polynomial systems for :func:`pathtrack.solve`: representation, parsers and benchmark families."""

from .families import FAMILIES, family, is_family_spec
from .parse import (PolynomialSyntaxError, from_sympy, parse_phc, parse_polynomials, parse_system,
                    read_phc)
from .system import PackedSystem, PolynomialSystem

__all__ = ["PolynomialSystem", "PackedSystem", "PolynomialSyntaxError", "parse_polynomials", "parse_system",
           "parse_phc", "read_phc", "from_sympy", "family", "is_family_spec", "FAMILIES"]
