"""Node selectors: one small language shared by the CLI, the config file and the Python API.

Grammar (whitespace around operators is ignored)::

    selector := term ("," term)*            # union (OR)
    term     := atom ("&" atom)*            # intersection (AND)
    atom     := ["!"] primary               # "!" negates
    primary  := "label:" NAME | NAME        # a label (bare word = label)
              | "tag:" KEY ["=" VALUE-GLOB] # the node's own tag (value glob with * and ?)
              | "account:" ID-OR-NAME       # nodes in that account
              | "ou:" OU-ID | "ou:/" NAME-PATH   # nodes in accounts under that OU
              | "kind:" KIND ["|" KIND]*    # node kinds (iamreach.model.NodeKind values)
              | "id:" NODE-ID               # one exact node id (e.g. id:internet)
              | "arn:" ARN-GLOB             # node ids matching the ARN glob (case-sensitive)

Examples
--------
>>> s = parse_selector("synthetic & kind:role|lambda_function")
>>> s.matches("arn:aws:iam::1:role/x", {"kind": "role", "labels": ("synthetic",)}, {})
True
>>> parse_selector("arn:aws:s3:::phi-*").matches("arn:aws:s3:::phi-data", {"kind": "s3_bucket"}, {})
True
>>> parse_selector("tag:Environment=prod*").matches("x", {"tags": {"Environment": "production"}}, {})
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from iamreach.errors import SelectorError
from iamreach.graph.policy import match_wildcard

__all__ = ["Selector", "parse_selector", "select"]

_KINDS = ("label", "tag", "account", "ou", "kind", "id", "arn")


@dataclass(frozen=True, slots=True)
class _Atom:
    kind: str
    key: str
    value: str | None
    negate: bool

    def test(self, node: str, attrs: Mapping[str, Any], accounts: Mapping[str, Any]) -> bool:
        return self._test(node, attrs, accounts) != self.negate

    def _test(self, node: str, attrs: Mapping[str, Any], accounts: Mapping[str, Any]) -> bool:
        k = self.kind
        if k == "label":
            return self.key in (attrs.get("labels") or ())
        if k == "tag":
            tags = attrs.get("tags") or {}
            if self.key not in tags:
                return False
            return self.value is None or match_wildcard(self.value, str(tags[self.key]))
        if k == "kind":
            return str(attrs.get("kind")) in self.key.split("|")
        if k == "id":
            return node == self.key
        if k == "arn":
            return match_wildcard(self.key, node)
        acct = attrs.get("account")
        info = accounts.get(acct) if acct else None
        if k == "account":
            return acct == self.key or (info is not None and info.get("name") == self.key)
        if k == "ou":
            if info is None:
                return False
            if self.key.startswith("/"):
                names = info.get("ou_names") or ()
                want = [p for p in self.key.split("/") if p]
                return list(names[: len(want)]) == want
            return self.key in (info.get("ou_path") or ())
        raise AssertionError(k)  # pragma: no cover - parse guarantees the kinds


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector: a union of intersections of (possibly negated) atoms."""

    text: str
    terms: tuple[tuple[_Atom, ...], ...]

    def matches(self, node: str, attrs: Mapping[str, Any], accounts: Mapping[str, Any]) -> bool:
        """Does ``node`` (with graph attributes ``attrs``) match?

        ``accounts`` maps account id -> {"name", "ou_path", "ou_names"} for ``account:``/``ou:``.
        """
        return any(all(a.test(node, attrs, accounts) for a in term) for term in self.terms)

    def labels(self) -> set[str]:
        """Label names this selector refers to."""
        return {a.key for t in self.terms for a in t if a.kind == "label"}


def _parse_atom(text: str, where: str) -> _Atom:
    raw = text.strip()
    negate = raw.startswith("!")
    if negate:
        raw = raw[1:].strip()
    if not raw:
        raise SelectorError("empty selector term", field=where)
    if raw.startswith("arn:"):
        return _Atom("arn", raw, None, negate)
    if ":" not in raw:
        return _Atom("label", raw, None, negate)
    kind, _, rest = raw.partition(":")
    kind = kind.strip().lower()
    rest = rest.strip()
    if kind not in _KINDS:
        raise SelectorError(
            f"unknown selector type {kind!r} in {text.strip()!r}; expected one of "
            + ", ".join(f"{k}:" for k in _KINDS) + " or a bare label name",
            field=where,
        )
    if not rest:
        raise SelectorError(f"selector {text.strip()!r} needs a value after '{kind}:'", field=where)
    if kind == "tag":
        key, eq, value = rest.partition("=")
        return _Atom("tag", key.strip(), value.strip() if eq else None, negate)
    return _Atom(kind, rest, None, negate)


def parse_selector(text: str | Selector, *, where: str = "selector") -> Selector:
    """Parse a selector string (see the module grammar); raise :class:`SelectorError` if bad."""
    if isinstance(text, Selector):
        return text
    if not isinstance(text, str) or not text.strip():
        raise SelectorError("expected a non-empty selector string such as 'synthetic' or 'tag:K=V'", field=where)
    terms = []
    for part in text.split(","):
        atoms = tuple(_parse_atom(a, where) for a in part.split("&"))
        terms.append(atoms)
    return Selector(text.strip(), tuple(terms))


def select(G, selector: str | Selector | Callable[[str, Mapping], bool] | Iterable[str]) -> set[str]:
    """Nodes of ``G`` that a selector (string, :class:`Selector`, predicate or node ids) matches.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", kind="role", labels=("synthetic",), account="1")
    >>> G.add_node("b", kind="s3_bucket", labels=("phi",), account="2")
    >>> sorted(select(G, "phi, kind:role"))
    ['a', 'b']
    """
    if callable(selector) and not isinstance(selector, Selector):
        return {n for n, d in G.nodes(data=True) if selector(n, d)}
    if isinstance(selector, (str, Selector)):
        sel = parse_selector(selector)
        accounts = G.graph.get("accounts", {})
        return {n for n, d in G.nodes(data=True) if sel.matches(n, d, accounts)}
    return {n for n in selector if n in G}
