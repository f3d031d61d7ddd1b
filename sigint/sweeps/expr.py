"""A tiny, safe evaluator for the coupled parameters and constraints of a sweep file.

An expression is parsed by :mod:`ast` (never :func:`eval`) and only these nodes are
accepted: numbers, parameter names, ``+ - * / **``, unary ``- +``, comparisons
(``< <= > >= == !=``, chained too), ``and``/``or``/``not``, and calls of ``min``, ``max``,
``abs`` and ``sqrt``. Comparisons treat values equal to 1e-9 relative as equal (so
``4 um - width >= 1 um`` holds for a 3 um width despite rounding). A quantity literal
(``3 um``, ``0.5mm``) is turned into its SI value first, so ``pitch - width >= 1 um``
reads as written. Names are the sweep's parameters, in
SI units.

Examples
--------
>>> e = Expression("pitch - width", source="s.yaml", field="coupled.space")
>>> sorted(e.names)
['pitch', 'width']
>>> round(e({"pitch": 4e-6, "width": 2.5e-6}) * 1e6, 6)
1.5
>>> Expression("pitch - width >= 1 um")({"pitch": 4e-6, "width": 2.5e-6})
True
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Mapping
from fractions import Fraction

from ..errors import InputError

__all__ = ["Expression", "Dim", "dim_of", "dim_text"]

#: A physical dimension: sorted (base, exponent) pairs; () is dimensionless. The bases are
#: sigint's unit dimensions (:data:`sigint.units.DIMENSIONS`), with frequency = 1/time and
#: the "per length" ones = X / length; a data rate (symbols/s) stays its own base, so a
#: rate is never compared with a frequency by mistake.
Dim = tuple[tuple[str, Fraction], ...]
BOOL = "truth value"
_MAX_EXPONENT = 16


def _mul(a: Dim, b: Dim, k: Fraction = Fraction(1)) -> Dim:
    out: dict[str, Fraction] = dict(a)
    for name, e in b:
        out[name] = out.get(name, Fraction(0)) + k * e
    return tuple(sorted((n, e) for n, e in out.items() if e != 0))


def _pow(a: Dim, k: Fraction) -> Dim:
    return tuple((n, e * k) for n, e in a if e * k != 0)


def dim_of(kind: str) -> Dim:
    """The :data:`Dim` of a sweep parameter kind (a unit dimension name, ``number``)."""
    if kind in ("number", "", "text"):
        return ()
    if kind == "frequency":
        return (("time", Fraction(-1)),)
    if kind.endswith("_per_length"):
        return _mul(dim_of(kind[: -len("_per_length")]), (("length", Fraction(-1)),))
    return ((kind, Fraction(1)),)


def dim_text(d: Dim | str) -> str:
    """Readable name of a dimension: ``length``, ``length^2``, ``a plain number``."""
    if d == BOOL:
        return "a comparison (true or false)"
    if not d:
        return "a plain number"
    from ..units import DIMENSIONS

    for name in DIMENSIONS:
        if dim_of(name) == d:
            return name
    return " * ".join(n if e == 1 else f"{n}^{e}" for n, e in d)


_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FUNCS = {"min": min, "max": max, "abs": abs, "sqrt": math.sqrt}

# a number directly followed by a unit (letters, optionally /letters): "3 um", "16GT/s"
_QTY = re.compile(r"(?<![\w.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-zµμΩ]+(?:/[A-Za-z]+)?)")


def _si(number: str, unit: str, where: str) -> tuple[float, str]:
    """(SI value, dimension name) of a quantity literal."""
    from ..units import DIMENSIONS, parse_quantity

    for dim in DIMENSIONS:
        try:
            return parse_quantity(f"{number} {unit}", dim), dim
        except Exception:       # noqa: BLE001 - not this dimension
            continue
    raise InputError(f"{where}: {number} {unit}: unknown unit {unit!r}; write quantities as "
                     "e.g. '1 um', '2 mm', '16 GT/s'")


def _close(a, b) -> bool:
    """Equal to 1e-9 relative: comparisons of SI values made by arithmetic on quantities
    treat rounding-level differences as equality."""
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=0.0)
    except (TypeError, ValueError):
        return False


class Expression:
    """A parsed expression over named parameters (SI values).

    Parameters
    ----------
    text : str
        The expression, e.g. ``"pitch - width"`` or ``"pitch - width >= 1 um"``.
    source, field : str, optional
        Where it was written, for error messages.

    Raises
    ------
    InputError
        For a syntax error or a construct outside the accepted subset.
    """

    def __init__(self, text: str, *, source: str | None = None, field: str | None = None) -> None:
        self.text = str(text)
        where = ": ".join(str(x) for x in (source, field) if x) or "expression"
        self.where = where
        self._quantities: dict[str, tuple[float, str]] = {}

        def literal(m: re.Match) -> str:
            key = f"__q{len(self._quantities)}__"
            self._quantities[key] = _si(m.group(1), m.group(2), where)
            return key

        code = _QTY.sub(literal, self.text)
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except SyntaxError:
            raise InputError(f"{where} = {self.text!r}: not a valid expression; use parameter "
                             "names, numbers with units, + - * / **, comparisons, and/or/not, "
                             "min/max/abs/sqrt") from None
        self.names: set[str] = set()
        self._check(tree.body)
        self._tree = tree.body

    def _check(self, node: ast.AST) -> None:
        ok = (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Name, ast.Constant, ast.Call)
        if not isinstance(node, ok):
            raise InputError(f"{self.where} = {self.text!r}: {type(node).__name__} is not "
                             "allowed in a sweep expression; use names, numbers, arithmetic, "
                             "comparisons and min/max/abs/sqrt")
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BIN:
                raise InputError(f"{self.where} = {self.text!r}: operator "
                                 f"{type(node.op).__name__} is not allowed; use + - * / **")
            if isinstance(node.op, ast.Pow):
                k = _constant(node.right)
                if k is None or abs(k) > _MAX_EXPONENT:
                    raise InputError(f"{self.where} = {self.text!r}: ** takes a constant "
                                     f"exponent between -{_MAX_EXPONENT} and {_MAX_EXPONENT}; "
                                     "write e.g. width ** 2 or sqrt(x)")
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                raise InputError(f"{self.where} = {self.text!r}: operator not allowed")
            self._check(node.operand)
        elif isinstance(node, ast.Compare):
            if any(type(o) not in _CMP for o in node.ops):
                raise InputError(f"{self.where} = {self.text!r}: comparison not allowed; use "
                                 "< <= > >= == !=")
            self._check(node.left)
            for c in node.comparators:
                self._check(c)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self._check(v)
        elif isinstance(node, ast.Name):
            if node.id not in self._quantities:
                self.names.add(node.id)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise InputError(f"{self.where} = {self.text!r}: {node.value!r} is not a number")
        elif isinstance(node, ast.Call):
            if (not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS
                    or node.keywords):
                raise InputError(f"{self.where} = {self.text!r}: only min, max, abs and sqrt "
                                 "may be called")
            for a in node.args:
                self._check(a)

    def __call__(self, values: Mapping[str, float]) -> float | bool:
        """The value of the expression for the parameter *values* (SI).

        Raises
        ------
        ValueError
            A division by zero, the square root of a negative number, a result that is not
            finite: one sentence naming the expression.
        """
        try:
            out = self._eval(self._tree, values)
        except ZeroDivisionError:
            raise ValueError(f"{self.text} divides by zero at this point") from None
        except (OverflowError, ValueError, TypeError) as exc:
            raise ValueError(f"{self.text} cannot be computed at this point ({exc})") from None
        if not isinstance(out, bool) and not (isinstance(out, (int, float))
                                              and math.isfinite(out)):
            raise ValueError(f"{self.text} is not a finite number at this point ({out!r})")
        return out

    def dimension(self, dims: Mapping[str, Dim]) -> Dim | str:
        """The dimension of the expression's value (``BOOL`` for a comparison), given each
        name's; checks that ``+ -``, comparisons, ``min``/``max`` join equal dimensions.

        Raises
        ------
        InputError
            For a mismatch, e.g. a length added to a frequency: one sentence.
        """
        return self._dim(self._tree, dims)

    def _dim_error(self, what: str, a, b) -> InputError:
        return InputError(f"{self.where} = {self.text!r}: {what} {dim_text(a)} and "
                          f"{dim_text(b)}; both sides need the same unit dimension (check "
                          "the units and the parameters' paths)")

    def _dim(self, node: ast.AST, d: Mapping[str, Dim]):
        if isinstance(node, ast.Constant):
            return ()
        if isinstance(node, ast.Name):
            if node.id in self._quantities:
                return dim_of(self._quantities[node.id][1])
            return d[node.id]
        if isinstance(node, ast.BinOp):
            a = self._dim(node.left, d)
            if isinstance(node.op, ast.Pow):
                k = _constant(node.right)
                self._number(a, node)
                return _pow(a, Fraction(k).limit_denominator(1000))
            b = self._dim(node.right, d)
            self._number(a, node)
            self._number(b, node)
            if isinstance(node.op, (ast.Add, ast.Sub)):
                if a != b:
                    raise self._dim_error("adds or subtracts", a, b)
                return a
            return _mul(a, b, Fraction(1 if isinstance(node.op, ast.Mult) else -1))
        if isinstance(node, ast.UnaryOp):
            a = self._dim(node.operand, d)
            if isinstance(node.op, ast.Not):
                if a != BOOL:
                    raise InputError(f"{self.where} = {self.text!r}: 'not' takes a comparison, "
                                     f"not {dim_text(a)}")
                return BOOL
            self._number(a, node)
            return a
        if isinstance(node, ast.BoolOp):
            for x in node.values:
                if self._dim(x, d) != BOOL:
                    raise InputError(f"{self.where} = {self.text!r}: 'and'/'or' join "
                                     "comparisons; write e.g. a > 1 um and b < 2 um")
            return BOOL
        if isinstance(node, ast.Compare):
            a = self._dim(node.left, d)
            self._number(a, node)
            for comp in node.comparators:
                b = self._dim(comp, d)
                self._number(b, node)
                if a != b:
                    raise self._dim_error("compares", a, b)
            return BOOL
        if isinstance(node, ast.Call):
            args = [self._dim(x, d) for x in node.args]
            for a in args:
                self._number(a, node)
            if not args:
                raise InputError(f"{self.where} = {self.text!r}: {node.func.id}() needs an "
                                 "argument")
            if node.func.id == "sqrt":
                return _pow(args[0], Fraction(1, 2))
            if any(a != args[0] for a in args[1:]):
                raise self._dim_error(f"{node.func.id}() of", args[0],
                                      next(a for a in args if a != args[0]))
            return args[0]
        raise AssertionError(type(node).__name__)      # excluded by _check

    def _number(self, a, node) -> None:
        if a == BOOL:
            raise InputError(f"{self.where} = {self.text!r}: a comparison is used as a number; "
                             "compare numbers, join comparisons with and/or")

    def _eval(self, node: ast.AST, v: Mapping[str, float]):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self._quantities:
                return self._quantities[node.id][0]
            return v[node.id]
        if isinstance(node, ast.BinOp):
            return _BIN[type(node.op)](self._eval(node.left, v), self._eval(node.right, v))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, v))
        if isinstance(node, ast.BoolOp):
            vals = (self._eval(x, v) for x in node.values)
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, v)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, v)
                if _close(left, right):         # 4 um - 3 um >= 1 um despite rounding
                    right = left
                if not _CMP[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Call):
            return _FUNCS[node.func.id](*(self._eval(a, v) for a in node.args))
        raise AssertionError(type(node).__name__)      # excluded by _check

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def _constant(node: ast.AST) -> float | None:
    """The value of a literal number, optionally signed (None for anything else)."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not (
            isinstance(node.value, bool)):
        return sign * float(node.value)
    return None
