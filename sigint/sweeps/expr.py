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

from ..errors import InputError

__all__ = ["Expression"]

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FUNCS = {"min": min, "max": max, "abs": abs, "sqrt": math.sqrt}

# a number directly followed by a unit (letters, optionally /letters): "3 um", "16GT/s"
_QTY = re.compile(r"(?<![\w.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-zµμΩ]+(?:/[A-Za-z]+)?)")


def _si(number: str, unit: str, where: str) -> str:
    from ..units import DIMENSIONS, parse_quantity

    for dim in DIMENSIONS:
        try:
            return repr(parse_quantity(f"{number} {unit}", dim))
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
        code = _QTY.sub(lambda m: _si(m.group(1), m.group(2), where), self.text)
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
        """The value of the expression for the parameter *values* (SI)."""
        return self._eval(self._tree, values)

    def _eval(self, node: ast.AST, v: Mapping[str, float]):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
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
