"""Custom segments: a small, safe filter language over customer features.

``monetary >= 500 and satisfaction_class == 'unhappy' and top_need in ('delivery', 'price')``.
Parsed with :mod:`ast` and evaluated column-wise on a DataFrame; only comparisons, ``and``,
``or``, ``not``, feature names, numbers, strings and tuples/lists of them are allowed, so a
config file can never run code. ``attr.plan`` reads a key of ``customers.attributes``.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

import numpy as np
import pandas as pd

from vocseg.errors import ConfigError, Errors
from vocseg.segments import protected

_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class FilterSyntaxError(ValueError):
    pass


def names(expr: str) -> list[str]:
    """Feature names an expression reads (``attr.x`` as ``attr.x``)."""
    tree = _parse(expr)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            out.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id != "attr":
            out.append(node.id)
    return out


def _parse(expr: str) -> ast.Expression:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise FilterSyntaxError(f"not an expression: {exc.msg}") from None
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            (
                ast.Expression,
                ast.BoolOp,
                ast.And,
                ast.Or,
                ast.UnaryOp,
                ast.Not,
                ast.USub,
                ast.Compare,
                ast.Name,
                ast.Load,
                ast.Constant,
                ast.Tuple,
                ast.List,
                ast.Attribute,
                ast.In,
                ast.NotIn,
                *_CMP,
            ),
        )
        if not ok:
            raise FilterSyntaxError(f"'{type(node).__name__}' is not allowed")
        if isinstance(node, ast.Attribute) and not (
            isinstance(node.value, ast.Name) and node.value.id == "attr"
        ):
            raise FilterSyntaxError("only attr.NAME may use a dot")
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and not isinstance(node.operand, ast.Constant)
        ):
            raise FilterSyntaxError("minus applies only to numbers")
    return tree


def _value(node: ast.AST, frame: pd.DataFrame) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -node.operand.value  # type: ignore[attr-defined]
    if isinstance(node, (ast.Tuple, ast.List)):
        return [_value(e, frame) for e in node.elts]
    if isinstance(node, ast.Attribute):
        col = f"attr.{node.attr}"
    elif isinstance(node, ast.Name):
        col = node.id
    else:
        return _mask(node, frame)
    if col not in frame.columns:
        raise FilterSyntaxError(f"unknown feature '{col}'")
    return frame[col]


def _mask(node: ast.AST, frame: pd.DataFrame) -> pd.Series:
    if isinstance(node, ast.Expression):
        return _mask(node.body, frame)
    if isinstance(node, ast.BoolOp):
        parts = [_mask(v, frame) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for p in parts[1:]:
            out = combine(out, p)
        return pd.Series(out, index=frame.index)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_mask(node.operand, frame)
    if isinstance(node, ast.Compare):
        left = _value(node.left, frame)
        result = pd.Series(True, index=frame.index)
        for op, comp in zip(node.ops, node.comparators):
            right = _value(comp, frame)
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, list):
                    raise FilterSyntaxError("'in' needs a list like ('a', 'b')")
                m = pd.Series(left, index=frame.index).isin(right)
                m = ~m if isinstance(op, ast.NotIn) else m
            else:
                try:
                    m = _CMP[type(op)](left, right)
                except TypeError as exc:
                    raise FilterSyntaxError(f"cannot compare: {exc}") from None
                m = pd.Series(m, index=frame.index).fillna(False).astype(bool)
            result &= m
            left = right
        return result
    if isinstance(node, ast.Name) and node.id in frame.columns:
        return frame[node.id].fillna(False).astype(bool)
    raise FilterSyntaxError(f"'{ast.unparse(node)}' is not a condition")


def evaluate(expr: str, frame: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows of ``frame`` that match ``expr`` (missing values never match).

    Example: ``evaluate("monetary >= 500 and satisfaction < 0.4", features)``
    """
    return _mask(_parse(expr), frame).astype(bool)


def check(
    custom: dict[str, str], features: list[str], *, reserved: set[str], where: str = "vocseg.toml"
) -> None:
    """Refuse protected attributes, unknown features and bad syntax in custom segments."""
    for name, expr in custom.items():

        def bad(reason: str, _name: str = name) -> ConfigError:
            return ConfigError(
                Errors.E402.format(
                    where=where, name=_name, reason=reason, features=", ".join(features)
                ),
                code="E402",
            )

        if not isinstance(expr, str):
            raise bad("the filter must be a string")
        try:
            used = names(expr)
        except FilterSyntaxError as exc:
            raise bad(str(exc)) from None
        protected.refuse(used + [name], key=f"custom.{name}", where=where)
        if name in reserved:
            raise bad("the name is taken by a built-in segment")
        unknown = [u for u in used if u not in features and not u.startswith("attr.")]
        if unknown:
            raise bad(f"unknown feature '{unknown[0]}'")
