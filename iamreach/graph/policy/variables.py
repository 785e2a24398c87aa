"""Policy variables (``${aws:username}``) and the request context they read from.

Variables are only recognised in documents whose ``Version`` is ``2012-10-17``; in older
documents ``${...}`` is literal text. ``${*}``, ``${?}`` and ``${$}`` are escapes for a literal
``*``, ``?`` and ``$``. ``${key, 'default'}`` supplies a default when the key is absent. A
variable whose key is absent (and has no default) makes the string it appears in match
nothing; in "unknown" mode a variable over an unknown key makes the match unknown.

Examples
--------
>>> t = parse_template("arn:aws:s3:::b/${aws:username}/*", variables=True)
>>> [k for k, _ in t]
[0, 2, 0]
>>> ctx = Context({"aws:username": "alice"})
>>> resolve(t, ctx)
[(False, 'arn:aws:s3:::b/'), (True, 'alice'), (False, '/*')]
>>> resolve(parse_template("${aws:userid}", variables=True), ctx) is MISSING
True
>>> resolve(parse_template("${aws:userid, 'x'}", variables=True), ctx)
[(True, 'x')]
>>> resolve(parse_template("a${*}b", variables=True), ctx)
[(False, 'a'), (True, '*'), (False, 'b')]
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "Context",
    "MISSING",
    "UNKNOWN",
    "PRESENT",
    "ABSENT",
    "parse_template",
    "resolve",
    "value_to_str",
]

# Token kinds of a parsed template.
TEXT = 0  # literal text where * and ? (in resource / Like patterns) are wildcards
LITERAL = 1  # escaped character: never a wildcard
VARIABLE = 2  # (key_lower, default or None, original text)

# Key states.
PRESENT, ABSENT, UNKNOWN = 0, 1, 2


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING = _Sentinel("MISSING")  # resolve(): a variable's key is absent -> matches nothing


def value_to_str(value: Any) -> str:
    """How a context value reads as a string (booleans as ``true``/``false``).

    >>> value_to_str(True), value_to_str(3), value_to_str("x")
    ('true', '3', 'x')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Context:
    """A request context: case-insensitive keys, with an "unknown" mode for analysis.

    In ``"absent"`` mode a key not given is absent. In ``"unknown"`` mode a key not given (and
    not listed in ``known_keys``) is unknown.

    ``values`` holds the keys given (lower-cased); ``defaults`` the keys the request determines
    (``aws:PrincipalArn``, ``aws:username``...), read when ``values`` lacks the key.

    >>> c = Context({"AWS:SourceIp": "1.2.3.4"}, unknown=True, known_keys={"aws:MultiFactorAuthPresent"})
    >>> c.get("aws:sourceip"), c.get("aws:multifactorauthpresent"), c.get("aws:username")
    ((0, '1.2.3.4'), (1, None), (2, None))
    """

    __slots__ = ("values", "defaults", "unknown", "known")

    def __init__(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        unknown: bool = False,
        known_keys: frozenset[str] | set[str] | None = None,
    ):
        self.values: dict[str, Any] = {str(k).lower(): v for k, v in (values or {}).items()}
        self.defaults: Mapping[str, Any] = NO_DEFAULTS
        self.unknown = unknown
        self.known = frozenset(k.lower() for k in known_keys) if known_keys else frozenset()

    def get(self, key: str) -> tuple[int, Any]:
        """``(state, value)`` for a lower-cased key; value is ``None`` unless present."""
        v = self.values.get(key, MISSING)
        if v is MISSING:
            v = self.defaults.get(key, MISSING)
        if v is not MISSING:
            return PRESENT, v
        if self.unknown and key not in self.known:
            return UNKNOWN, None
        return ABSENT, None

    def get_default(self, key: str, value: Any) -> None:
        """Set ``key`` only when the caller did not supply it (derived keys). The values dict is
        replaced, not written to: a request's context may share it with other requests."""
        if key not in self.values and key not in self.defaults:
            self.values = {**self.values, key: value}


NO_DEFAULTS: Mapping[str, Any] = MappingProxyType({})


def parse_template(text: str, *, variables: bool) -> tuple[tuple[int, Any], ...]:
    """Split ``text`` into ``(kind, value)`` tokens (see module docs)."""
    if not variables or "${" not in text:
        return ((TEXT, text),)
    out: list[tuple[int, Any]] = []
    buf: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        j = text.find("${", i)
        if j < 0:
            buf.append(text[i:])
            break
        k = text.find("}", j + 2)
        if k < 0:
            buf.append(text[i:])
            break
        buf.append(text[i:j])
        inner = text[j + 2 : k]
        if inner in ("*", "?", "$"):
            if buf:
                out.append((TEXT, "".join(buf)))
                buf = []
            out.append((LITERAL, inner))
        else:
            key, default = _split_default(inner)
            if buf:
                out.append((TEXT, "".join(buf)))
                buf = []
            out.append((VARIABLE, (key.lower(), default, text[j : k + 1])))
        i = k + 1
    if buf and "".join(buf):
        out.append((TEXT, "".join(buf)))
    return tuple(t for t in out if t[0] != TEXT or t[1])


def _split_default(inner: str) -> tuple[str, str | None]:
    if "," in inner:
        key, _, rest = inner.partition(",")
        rest = rest.strip()
        if len(rest) >= 2 and rest[0] == rest[-1] == "'":
            return key.strip(), rest[1:-1]
        return key.strip(), None
    return inner.strip(), None


def has_variables(tokens: tuple[tuple[int, Any], ...]) -> bool:
    """Whether any token is a variable."""
    return any(kind == VARIABLE for kind, _ in tokens)


def resolve(tokens: tuple[tuple[int, Any], ...], ctx: Context) -> list[tuple[bool, str]] | Any:
    """Substitute variables: ``[(is_literal, text), ...]``, or :data:`MISSING` / the unknown key.

    Returns :data:`MISSING` when a variable's key is absent (no default) and, in unknown mode,
    a ``("unknown", key)`` tuple naming the first unknown key.
    """
    out: list[tuple[bool, str]] = []
    for kind, value in tokens:
        if kind == TEXT:
            out.append((False, value))
        elif kind == LITERAL:
            out.append((True, value))
        else:
            key, default, _orig = value
            state, v = ctx.get(key)
            if state == PRESENT:
                if isinstance(v, list | tuple):
                    if len(v) != 1:
                        return MISSING
                    v = v[0]
                if v is None:
                    return MISSING
                out.append((True, value_to_str(v)))
            elif state == UNKNOWN:
                return ("unknown", key)
            elif default is not None:
                out.append((True, default))
            else:
                return MISSING
    return out
