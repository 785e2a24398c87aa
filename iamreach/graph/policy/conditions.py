"""IAM condition operators, compiled once and evaluated in three-valued logic.

A ``Condition`` block is an AND across operators and keys, and an OR across the values of
one key. Keys are case-insensitive; values are case-sensitive unless the operator says
``IgnoreCase``. Evaluation returns ``True``, ``False`` or ``None`` (unknown: the key, or a
variable in a value, is unknown in analysis mode).

Missing keys (documented behaviour): positive operators are false, negated operators
(``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``...) are true, ``...IfExists`` is true,
``ForAllValues:`` is true, ``ForAnyValue:`` is false, ``Null: true`` is true.

Examples
--------
>>> from iamreach.graph.policy.variables import Context
>>> c = compile_clause("IpAddress", "aws:SourceIp", ["10.0.0.0/8"], variables=True, field="C")
>>> c.evaluate(Context({"aws:sourceip": "10.1.2.3"})), c.evaluate(Context({}))
(True, False)
>>> c = compile_clause("StringNotEquals", "aws:PrincipalAccount", "1", variables=True, field="C")
>>> c.evaluate(Context({})), c.evaluate(Context({}, unknown=True)) is None
(True, True)
>>> c = compile_clause("ForAllValues:StringLike", "aws:TagKeys", ["team-*"], variables=True, field="C")
>>> c.evaluate(Context({"aws:TagKeys": ["team-a", "team-b"]})), c.evaluate(Context({"aws:TagKeys": ["x"]}))
(True, False)
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from iamreach.errors import PolicyError
from iamreach.graph.policy.variables import (
    LITERAL,
    MISSING,
    TEXT,
    VARIABLE,
    Context,
    parse_template,
    resolve,
    value_to_str,
)
from iamreach.graph.policy.wildcard import compile_tokens

__all__ = ["Clause", "compile_clause", "compile_condition_block", "OPERATORS"]

# base name (lower) -> (canonical name, family, negated)
_OPS: dict[str, tuple[str, str, bool]] = {}


def _op(name: str, family: str, negated: bool = False) -> None:
    _OPS[name.lower()] = (name, family, negated)


for _n in ("StringEquals", "StringEqualsIgnoreCase", "StringLike"):
    _op(_n, _n)
_op("StringNotEquals", "StringEquals", True)
_op("StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase", True)
_op("StringNotLike", "StringLike", True)
for _fam in ("Numeric", "Date"):
    _op(f"{_fam}Equals", f"{_fam}Equals")
    _op(f"{_fam}NotEquals", f"{_fam}Equals", True)
    for _cmp in ("LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals"):
        _op(f"{_fam}{_cmp}", f"{_fam}{_cmp}")
_op("Bool", "Bool")
_op("BinaryEquals", "BinaryEquals")
_op("IpAddress", "IpAddress")
_op("NotIpAddress", "IpAddress", True)
_op("ArnEquals", "ArnLike")
_op("ArnLike", "ArnLike")
_op("ArnNotEquals", "ArnLike", True)
_op("ArnNotLike", "ArnLike", True)
_op("Null", "Null")

OPERATORS: tuple[str, ...] = tuple(sorted(v[0] for v in _OPS.values()))

_SCALAR = (str, int, float, bool)
_MULTI_TYPES = (list, tuple, set, frozenset)  # context values that hold several values
_MULTI = frozenset(_MULTI_TYPES)
_NOT_NULL = object()  # Clause._null of every operator but Null


def _parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            f = float(value)
        except OverflowError:
            return None
        return f if math.isfinite(f) else None
    if isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
        return f if math.isfinite(f) else None
    return None


_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def _parse_date(value: Any) -> float | None:
    """Seconds since the epoch for ISO 8601 text or an epoch number; ``None`` if invalid.

    >>> _parse_date("2024-01-01T00:00:00Z"), _parse_date("1704067200"), _parse_date("2024-01-01")
    (1704067200.0, 1704067200.0, 1704067200.0)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            f = float(value)
        except OverflowError:
            return None
        return f if math.isfinite(f) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        f = float(text)
        return f if math.isfinite(f) else None
    m = _ISO.match(text)
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=UTC)
    except ValueError:
        return None
    seconds = dt.timestamp() + (float(frac) if frac else 0.0)
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def _parse_binary(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


_IPS: dict[str, Any] = {}  # text -> parsed address (or None): a request's address is tested again and again


def _parse_ip(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str):
        return None
    hit = _IPS.get(value, _IPS)
    if hit is not _IPS:
        return hit  # type: ignore[no-any-return]
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        try:  # a context value given as a one-address network, e.g. 203.0.113.7/32
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            net = None
        ip = net.network_address if net is not None and net.num_addresses == 1 else None
    if len(_IPS) >= 65_536:
        _IPS.clear()
    _IPS[value] = ip
    return ip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _split_arn(text: str) -> list[str] | None:
    parts = text.split(":", 5)
    return parts if len(parts) == 6 else None


class Clause:
    """One ``operator: {key: values}`` pair, compiled."""

    __slots__ = (
        "operator",
        "key",
        "key_lower",
        "values",
        "family",
        "negated",
        "if_exists",
        "qualifier",
        "_compiled",
        "_dynamic",
        "_test",
        "_null",
        "_absent",
    )

    def __init__(self) -> None:
        self._null: Any = _NOT_NULL
        self._absent = False

    def __repr__(self) -> str:
        return f"Clause({self.operator!r}, {self.key!r}, {list(self.values)!r})"

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, ctx: Context) -> bool | None:
        """True / False / None (unknown)."""
        key = self.key_lower
        value = ctx.values.get(key, MISSING)
        if value is MISSING:
            value = ctx.defaults.get(key, MISSING)
        if value is MISSING:
            if ctx.unknown and key not in ctx.known:
                return None
            value = None  # absent
        if self._null is not _NOT_NULL:  # the Null operator
            if self._null is None:
                return True
            return (value is None) if self._null else (value is not None)
        if value is None:
            return self._absent
        compiled = self._compiled if not self._dynamic else self._resolve(ctx)
        if compiled is None:
            return None
        test = self._test
        cls = value.__class__
        if cls is str or (cls not in _MULTI and not isinstance(value, _MULTI_TYPES)):
            if self.qualifier is None:  # one value: the common case
                r = test(value, compiled)
                if r is None:
                    return None
                return (not r) if self.negated else bool(r)
            items: Any = (value,)
        else:
            items = value
        negated = self.negated
        if self.qualifier is None:
            # A single-valued operator over a (possibly multi-valued) key: any context value matching
            # any policy value satisfies the positive form.
            pos: bool | None = False
            for item in items:
                r = test(item, compiled)
                if r:
                    pos = True
                    break
                if r is None:
                    pos = None
            if pos is None:
                return None
            return (not pos) if negated else pos
        results = []
        for item in items:
            r = test(item, compiled)
            results.append(r if r is None else (r != negated))
        if self.qualifier == "forallvalues":
            if any(r is False for r in results):
                return False
            return None if any(r is None for r in results) else True
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False

    def _resolve(self, ctx: Context) -> list[Any] | None:
        """Substitute variables in the values; ``None`` when any is unknown."""
        out: list[Any] = []
        unknown = False
        for tokens in self._compiled:
            r = resolve(tokens, ctx)
            if r is MISSING:
                continue  # this value matches nothing
            if isinstance(r, tuple):
                unknown = True
                continue
            out.append(_finish(self.family, r))
        if unknown and not out:
            return None
        if unknown:
            # Some values resolved, some unknown: we can only be sure when a resolved one matches;
            # keep it simple and exact by declaring the whole clause unknown.
            return None
        return out


def _finish(family: str, resolved: list[tuple[bool, str]]) -> Any:
    """Turn a resolved template into the compiled value for ``family``."""
    if family in ("StringLike", "ArnLike"):
        text = "".join(t for _, t in resolved)
        if family == "StringLike":
            return compile_tokens(resolved, pattern=text)
        return _arn_pattern(resolved, text)
    text = "".join(t for _, t in resolved)
    if family == "StringEqualsIgnoreCase":
        return text.casefold()
    if family == "Bool":
        return text.lower()
    return text


def _arn_pattern(resolved: list[tuple[bool, str]], text: str) -> Any:
    """ARN patterns are matched segment by segment (six colon-separated parts)."""
    segments: list[list[tuple[bool, str]]] = [[]]
    for literal, t in resolved:
        pieces = t.split(":")
        for i, piece in enumerate(pieces):
            if i and len(segments) < 6:
                segments.append([])
            elif i:
                segments[-1].append((True, ":"))
            if piece:
                segments[-1].append((literal, piece))
    if len(segments) != 6:
        whole = compile_tokens(resolved, pattern=text)
        return ("whole", whole)
    return ("arn", tuple(compile_tokens(s) for s in segments))


# -- per-family tests: (context item, compiled values) -> bool | None ----------------------------
def _t_string(item: Any, values: list[str]) -> bool:
    return value_to_str(item) in values


def _t_string_ic(item: Any, values: list[str]) -> bool:
    return value_to_str(item).casefold() in values


def _t_like(item: Any, values: list[Any]) -> bool:
    s = value_to_str(item)
    return any(g.match(s) for g in values)


def _t_bool(item: Any, values: list[str]) -> bool:
    return value_to_str(item).lower() in values


def _t_binary(item: Any, values: list[bytes]) -> bool:
    b = _parse_binary(item)
    return b is not None and b in values


def _t_ip(item: Any, values: list[Any]) -> bool:
    ip = _parse_ip(item)
    if ip is None:
        return False
    return any(ip.version == net.version and ip in net for net in values)


def _t_arn(item: Any, values: list[Any]) -> bool:
    s = value_to_str(item)
    parts = _split_arn(s)
    for kind, pat in values:
        if kind == "whole":
            if pat.match(s):
                return True
        elif parts is not None and all(g.match(p) for g, p in zip(pat, parts, strict=True)):
            return True
    return False


def _numeric_test(parse: Callable[[Any], float | None], cmp: str) -> Callable[[Any, list[float]], bool]:
    def test(item: Any, values: list[float]) -> bool:
        x = parse(item)
        if x is None:
            return False
        if cmp == "Equals":
            return x in values
        if cmp == "LessThan":
            return any(x < v for v in values)
        if cmp == "LessThanEquals":
            return any(x <= v for v in values)
        if cmp == "GreaterThan":
            return any(x > v for v in values)
        return any(x >= v for v in values)

    return test


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": _t_string,
    "StringEqualsIgnoreCase": _t_string_ic,
    "StringLike": _t_like,
    "Bool": _t_bool,
    "BinaryEquals": _t_binary,
    "IpAddress": _t_ip,
    "ArnLike": _t_arn,
}
for _fam, _parse in (("Numeric", _parse_number), ("Date", _parse_date)):
    for _cmp in ("Equals", "LessThan", "LessThanEquals", "GreaterThan", "GreaterThanEquals"):
        _TESTS[f"{_fam}{_cmp}"] = _numeric_test(_parse, _cmp)


def _split_operator(name: str, field: str) -> tuple[str | None, str, bool, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> (qualifier, canonical base, if_exists, family, negated)."""
    qualifier = None
    rest = name
    if ":" in name:
        q, _, rest = name.partition(":")
        ql = q.lower()
        if ql not in ("forallvalues", "foranyvalue"):
            raise PolicyError(f"unknown condition set operator {q!r} (expected ForAllValues or ForAnyValue)", field=field)
        qualifier = ql
    lower = rest.lower()
    if_exists = False
    if lower not in _OPS and lower.endswith("ifexists"):
        lower = lower[: -len("ifexists")]
        if_exists = True
    spec = _OPS.get(lower)
    if spec is None:
        raise PolicyError(f"unknown condition operator {name!r}", field=field)
    canonical, family, negated = spec
    return qualifier, canonical, if_exists, family, negated


def compile_clause(operator: str, key: str, raw: Any, *, variables: bool, field: str) -> Clause:
    """Compile one ``operator: {key: raw}`` entry (``raw`` a scalar or list of scalars)."""
    qualifier, canonical, if_exists, family, negated = _split_operator(operator, field)
    if isinstance(raw, list):
        values = raw
    else:
        values = [raw]
    for i, v in enumerate(values):
        if not isinstance(v, _SCALAR) or v is None:
            where = f"{field}.{key}" + (f"[{i}]" if isinstance(raw, list) else "")
            raise PolicyError("expected a string, number or boolean condition value", field=where)
    c = Clause()
    c.operator = operator
    c.key = key
    c.key_lower = key.lower()
    c.values = tuple(value_to_str(v) for v in values)
    c.family = family
    c.negated = negated
    c.if_exists = if_exists
    c.qualifier = qualifier
    c._dynamic = False
    c._test = _TESTS.get(family)  # type: ignore[assignment]
    # The answer when the key is absent (documented): ...IfExists and ForAllValues: true,
    # ForAnyValue: false, negated operators true, positive ones false.
    c._absent = True if if_exists or qualifier == "forallvalues" else False if qualifier == "foranyvalue" else negated
    where = f"{field}.{key}"
    if family == "Null":
        flags = set()
        for v in values:
            s = value_to_str(v).lower()
            if s not in ("true", "false"):
                raise PolicyError('Null expects "true" or "false"', field=where)
            flags.add(s == "true")
        # ["true", "false"] is satisfied either way: _null is None.
        c._null = flags.pop() if len(flags) == 1 else None
        c._compiled = ()
        return c
    if family.startswith("Numeric") or family.startswith("Date"):
        parse = _parse_number if family.startswith("Numeric") else _parse_date
        out = []
        for v in values:
            x = parse(v)
            if x is None:
                kind = "number" if family.startswith("Numeric") else "date (ISO 8601 or epoch seconds)"
                raise PolicyError(f"{canonical} expects a {kind}, got {_short(v)}", field=where)
            out.append(x)
        c._compiled = out
        return c
    if family == "BinaryEquals":
        out_b = []
        for v in values:
            b = _parse_binary(v)
            if b is None:
                raise PolicyError(f"BinaryEquals expects base64 text, got {_short(v)}", field=where)
            out_b.append(b)
        c._compiled = out_b
        return c
    if family == "IpAddress":
        nets = []
        for v in values:
            try:
                nets.append(ipaddress.ip_network(value_to_str(v).strip(), strict=False))
            except ValueError:
                raise PolicyError(f"{canonical} expects an IP address or CIDR, got {_short(v)}", field=where) from None
        c._compiled = nets
        return c
    # String-ish families: values may hold variables.
    templates = [parse_template(value_to_str(v), variables=variables) for v in values]
    if any(kind == VARIABLE for t in templates for kind, _ in t):
        c._dynamic = True
        c._compiled = templates
        return c
    resolved = [[(kind == LITERAL, text) for kind, text in t if kind in (TEXT, LITERAL)] for t in templates]
    c._compiled = [_finish(family, r) for r in resolved]
    if family in ("StringEquals", "StringEqualsIgnoreCase", "Bool"):
        c._compiled = frozenset(c._compiled)
    return c


def compile_condition_block(block: Any, *, variables: bool, field: str) -> tuple[Clause, ...]:
    """Compile a statement's ``Condition`` object."""
    if not isinstance(block, dict):
        raise PolicyError("expected an object of condition operators", field=field)
    out: list[Clause] = []
    for op, keys in block.items():
        f = f"{field}.{op}"
        if not isinstance(op, str):
            raise PolicyError("expected a condition operator name", field=field)
        if not isinstance(keys, dict):
            raise PolicyError("expected an object of condition keys", field=f)
        _split_operator(op, f)  # validate even when empty
        for key, raw in keys.items():
            if not isinstance(key, str) or not key:
                raise PolicyError("expected a condition key name", field=f)
            if isinstance(raw, list):
                if not raw:
                    raise PolicyError("expected at least one condition value", field=f"{f}.{key}")
            out.append(compile_clause(op, key, raw, variables=variables, field=f))
    return tuple(out)

