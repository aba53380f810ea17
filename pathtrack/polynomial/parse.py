"""Parse polynomial systems from strings, PHCpack input files and SymPy expressions.

The grammar is ``+ - * / ^ **``, parentheses, real numbers in decimal or scientific
notation, ``i``/``I`` as the imaginary unit and identifiers as variables. Products and
integer powers are expanded exactly. Every syntax error names the line and column.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .system import PolynomialSystem

__all__ = ["PolynomialSyntaxError", "parse_polynomials", "parse_system", "parse_phc", "read_phc",
           "from_sympy"]

IMAGINARY_UNITS = ("i", "I")

_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|[\^*+\-/()])")

# A polynomial during parsing: {((var, power), ...) sorted by var name: coefficient}.
Poly = Dict[Tuple[Tuple[str, int], ...], complex]


class PolynomialSyntaxError(ValueError):
    """Malformed polynomial text; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int, source: str = "") -> None:
        self.line, self.column, self.source = line, column, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}line {line}, column {column}: {message}")


def _line_col(text: str, pos: int) -> Tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


class _Parser:
    """Recursive descent over one polynomial ``text[start:end]`` (positions kept for errors)."""

    def __init__(self, text: str, start: int, end: int, source: str) -> None:
        self.text, self.source = text, source
        self.tokens: List[Tuple[str, str, int]] = []
        pos = start
        while pos < end:
            m = _TOKEN.match(text, pos, end)
            if m is None:
                self.fail(f"unexpected character {text[pos]!r}", pos)
            if m.lastgroup != "ws":
                self.tokens.append((m.lastgroup, m.group(), pos))
            pos = m.end()
        self.end = end
        self.k = 0

    def fail(self, message: str, pos: int):
        raise PolynomialSyntaxError(message, *_line_col(self.text, pos), self.source)

    def peek(self) -> Tuple[str, str, int]:
        return self.tokens[self.k] if self.k < len(self.tokens) else ("end", "", self.end)

    def take(self) -> Tuple[str, str, int]:
        tok = self.peek()
        self.k += 1
        return tok

    def parse(self) -> Poly:
        if not self.tokens:
            self.fail("empty polynomial", self.end)
        p = self.expr()
        kind, value, pos = self.peek()
        if kind != "end":
            self.fail(f"unexpected {value!r}", pos)
        return p

    def expr(self) -> Poly:
        p = self.term()
        while self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            q = self.term()
            p = _add(p, q if sign == "+" else _scale(q, -1))
        return p

    def term(self) -> Poly:
        p = self.unary()
        while self.peek()[1] in ("*", "/"):
            op, _, pos = self.take()[1], None, self.peek()[2]
            q = self.unary()
            if op == "*":
                p = _mul(p, q)
            else:
                c = _constant(q)
                if c is None:
                    self.fail("can only divide by a constant", pos)
                if c == 0:
                    self.fail("division by zero", pos)
                p = _scale(p, 1 / c)
        return p

    def unary(self) -> Poly:
        if self.peek()[1] in ("+", "-"):
            sign = self.take()[1]
            p = self.unary()
            return p if sign == "+" else _scale(p, -1)
        return self.power()

    def power(self) -> Poly:
        base = self.atom()
        if self.peek()[1] in ("^", "**"):
            self.take()
            kind, value, pos = self.take()
            if kind != "num" or not value.isdigit():
                self.fail(f"exponent must be a non-negative integer, got {value or 'end of input'!r}", pos)
            result: Poly = {(): 1 + 0j}
            for _ in range(int(value)):
                result = _mul(result, base)
            return result
        return base

    def atom(self) -> Poly:
        kind, value, pos = self.take()
        if kind == "num":
            return {(): complex(float(value))}
        if kind == "name":
            if value in IMAGINARY_UNITS:
                return {(): 1j}
            return {((value, 1),): 1 + 0j}
        if value == "(":
            p = self.expr()
            kind2, value2, pos2 = self.take()
            if value2 != ")":
                self.fail(f"expected ')' to close the '(' at column {_line_col(self.text, pos)[1]}, "
                          f"got {value2 or 'end of input'!r}", pos2)
            return p
        self.fail(f"expected a number, variable or '(', got {value or 'end of input'!r}", pos)


def _add(p: Poly, q: Poly) -> Poly:
    out = dict(p)
    for m, c in q.items():
        out[m] = out.get(m, 0) + c
    return out


def _scale(p: Poly, s: complex) -> Poly:
    return {m: c * s for m, c in p.items()}


def _mul(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            powers = dict(m1)
            for v, k in m2:
                powers[v] = powers.get(v, 0) + k
            m = tuple(sorted(powers.items()))
            out[m] = out.get(m, 0) + c1 * c2
    return out


def _constant(p: Poly) -> Optional[complex]:
    if all(m == () or c == 0 for m, c in p.items()):
        return p.get((), 0)
    return None


def _variables_in_order(text: str, polys: Sequence[Poly]) -> Tuple[str, ...]:
    """Variables in order of first appearance in the text (PHCpack's convention)."""
    used = {v for p in polys for m, c in p.items() if c != 0 for v, _ in m}
    order = []
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "name" and m.group() in used and m.group() not in order:
            order.append(m.group())
    return tuple(order)


def _to_system(polys: Sequence[Poly], variables: Sequence[str], name: str) -> PolynomialSystem:
    col = {v: j for j, v in enumerate(variables)}
    exps, coefs = [], []
    for p in polys:
        items = [(m, c) for m, c in p.items() if c != 0]
        e = np.zeros((len(items), len(variables)), dtype=np.int64)
        for r, (m, _) in enumerate(items):
            for v, k in m:
                if v not in col:
                    raise ValueError(f"variable {v!r} is not among the declared variables {tuple(variables)}")
                e[r, col[v]] = k
        exps.append(e)
        coefs.append(np.array([c for _, c in items], dtype=np.complex128))
    return PolynomialSystem(tuple(variables), tuple(exps), tuple(coefs), name)


def parse_polynomials(texts: Iterable[str], variables: Optional[Sequence[str]] = None,
                      name: str = "") -> PolynomialSystem:
    """Parse one polynomial per string, e.g. ``["x^2 + 4*y^2 - 4", "x*y - 1"]``.

    ``variables`` fixes the column order; by default it is the order of first appearance.
    Errors name the equation (as line) and column.
    """
    texts = list(texts)
    polys = [_Parser(t, 0, len(t), f"equation {k + 1}").parse() for k, t in enumerate(texts)]
    if variables is None:
        variables = _variables_in_order("\n".join(texts), polys)
    return _to_system(polys, variables, name)


def parse_system(text: str, variables: Optional[Sequence[str]] = None, name: str = "") -> PolynomialSystem:
    """Parse polynomials separated by ``;`` or new lines from one string."""
    parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
    return parse_polynomials(parts, variables, name)


def parse_phc(text: str, source: str = "", name: str = "") -> PolynomialSystem:
    """Parse PHCpack input: ``n [m]`` on the first line, then ``n`` polynomials each ended by ``;``.

    Text after the last polynomial (solutions, comments) is ignored. Errors name line and column.
    """
    first_nl = text.find("\n")
    header = text if first_nl < 0 else text[:first_nl]
    fields = header.split()
    if not 1 <= len(fields) <= 2 or not all(f.isdigit() for f in fields):
        raise PolynomialSyntaxError(
            f"first line must hold the number of equations (and optionally of variables), got {header.strip()!r}",
            1, 1, source)
    n_eq = int(fields[0])
    n_var = int(fields[1]) if len(fields) == 2 else n_eq
    if n_eq < 1:
        raise PolynomialSyntaxError("the number of equations must be positive", 1, 1, source)
    pos = len(header) + 1 if first_nl >= 0 else len(text)
    polys = []
    for k in range(n_eq):
        end = text.find(";", pos)
        if end < 0:
            raise PolynomialSyntaxError(
                f"expected {n_eq} polynomials each ended by ';' but found only {k}", *_line_col(text, len(text)),
                source)
        polys.append(_Parser(text, pos, end, source).parse())
        pos = end + 1
    variables = _variables_in_order(text[:pos], polys)
    if len(variables) != n_var:
        raise PolynomialSyntaxError(
            f"header declares {n_var} variables but the polynomials use {len(variables)}: {', '.join(variables)}",
            1, 1, source)
    return _to_system(polys, variables, name)


def read_phc(path: "os.PathLike[str] | str") -> PolynomialSystem:
    """Read a PHCpack input file (see :func:`parse_phc`)."""
    path = os.fspath(path)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return parse_phc(text, source=path, name=os.path.splitext(os.path.basename(path))[0])


def from_sympy(exprs: Sequence, variables: Optional[Sequence] = None, name: str = "") -> PolynomialSystem:
    """Convert SymPy expressions (requires sympy); ``variables`` defaults to sorted free symbols."""
    import sympy

    exprs = [sympy.sympify(e) for e in exprs]
    if variables is None:
        variables = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    gens = [sympy.Symbol(v) if isinstance(v, str) else v for v in variables]
    exps, coefs = [], []
    for e in exprs:
        poly = sympy.Poly(sympy.expand(e), *gens)
        terms = poly.terms()
        exps.append(np.array([m for m, _ in terms], dtype=np.int64).reshape(-1, len(gens)))
        coefs.append(np.array([complex(sympy.N(c)) for _, c in terms], dtype=np.complex128))
    return PolynomialSystem(tuple(str(g) for g in gens), tuple(exps), tuple(coefs), name)
