"""Parse and compile IAM policy documents (identity, resource, trust, boundary, SCP, RCP...).

:func:`parse_policy` validates the grammar strictly (every bad document raises
:class:`~iamreach.errors.PolicyError` naming the field) and compiles each statement once:
action patterns into case-insensitive globs indexed by service prefix, resources into
case-sensitive globs (or variable templates), principals into lookup sets and conditions into
:class:`~iamreach.graph.policy.conditions.Clause` objects.

Examples
--------
>>> p = parse_policy('{"Version": "2012-10-17", "Statement": {"Sid": "R", "Effect": "Allow",'
...                  ' "Action": "s3:Get*", "Resource": "*"}}', source="P")
>>> s = p.statements[0]
>>> s.effect, s.sid, s.matches_action("S3:GetObject"), s.matches_action("s3:PutObject")
('Allow', 'R', True, False)
>>> s.label
"P statement 'R' (#0)"
>>> parse_policy({"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]})
Traceback (most recent call last):
...
iamreach.errors.PolicyError: Statement[0].Effect: expected "Allow" or "Deny"
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, KeysView, Mapping
from typing import Any
from urllib.parse import unquote

from iamreach.errors import PolicyError
from iamreach.graph.policy.conditions import Clause, compile_condition_block
from iamreach.graph.policy.variables import (
    LITERAL,
    MISSING,
    TEXT,
    VARIABLE,
    Context,
    parse_template,
    resolve,
)
from iamreach.graph.policy.wildcard import Glob, compile_glob, compile_tokens, parse_arn

__all__ = [
    "Policy",
    "Statement",
    "PrincipalSpec",
    "ConditionTerm",
    "PolicyIndex",
    "parse_policy",
    "known_actions",
    "POLICY_KINDS",
]

POLICY_KINDS = ("identity", "resource", "trust", "boundary", "session", "scp", "rcp", "vpce")
_NO_PRINCIPAL_KINDS = frozenset({"identity", "boundary", "session", "scp"})
_PRINCIPAL_REQUIRED_KINDS = frozenset({"resource", "trust", "rcp"})
_RESOURCE_REQUIRED_KINDS = frozenset({"identity", "boundary", "session"})
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
)
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_ACCOUNT_ID = re.compile(r"^\d{12}$")

# Principal-match strength, strongest first. UNLIMITED: the principal (user ARN, session ARN,
# service, federated provider, or "*") is named directly; ROLE: named by IAM role ARN (still
# limited by boundaries / session policies); ACCOUNT: the account is named (delegation to IAM).
UNLIMITED, ROLE, ACCOUNT, NOMATCH = 3, 2, 1, 0


_TERM_FIELDS = ("effect", "operator", "key", "values", "source", "sid", "negated")
_TERM_INDEX = {name: i for i, name in enumerate(_TERM_FIELDS)}


class ConditionTerm(Mapping[str, Any]):
    """One condition an answer depends on (see :class:`~iamreach.graph.policy.evaluate.Result`).

    Immutable; reads both as attributes and as a mapping (``dict(term)`` gives the JSON form
    with ``values`` as a tuple). ``negated`` is true for terms of a Deny statement: the answer
    needs *that deny's conditions* to be false (for a deny with several unknown terms: not all
    of them true).

    >>> t = ConditionTerm("Allow", "StringEquals", "aws:SourceVpc", ("vpc-1",), "P", None, False)
    >>> t.key, t["operator"], sorted(dict(t))[:3]
    ('aws:SourceVpc', 'StringEquals', ['effect', 'key', 'negated'])
    """

    __slots__ = ("effect", "operator", "key", "values", "source", "sid", "negated", "_k", "_h")

    effect: str
    operator: str
    key: str
    values: tuple[str, ...]
    source: str
    sid: str | None
    negated: bool

    def __init__(
        self,
        effect: str,
        operator: str,
        key: str,
        values: tuple[str, ...],
        source: str,
        sid: str | None,
        negated: bool,
    ):
        fields = (effect, operator, key, tuple(values), source, sid, negated)
        for name, value in zip(_TERM_FIELDS, fields, strict=True):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_k", fields)
        object.__setattr__(self, "_h", hash(fields))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ConditionTerm is immutable")

    def __getitem__(self, name: str) -> Any:
        i = _TERM_INDEX.get(name)
        if i is None:
            raise KeyError(name)
        return self._k[i]

    def keys(self) -> KeysView[str]:
        return _TERM_KEYS

    def __iter__(self) -> Iterator[str]:
        return iter(_TERM_FIELDS)

    def __len__(self) -> int:
        return len(_TERM_FIELDS)

    def _key(self) -> tuple[Any, ...]:
        return self._k

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ConditionTerm):
            return self is other or (self._h == other._h and self._k == other._k)
        return Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        return self._h

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"effect","operator","key","values","source","sid","negated"}``."""
        d = {f: getattr(self, f) for f in _TERM_FIELDS}
        d["values"] = list(self.values)
        return d

    def __repr__(self) -> str:
        neg = "NOT " if self.negated else ""
        return f"ConditionTerm({neg}{self.operator} {self.key} {list(self.values)} @ {self.source})"


_TERM_KEYS = KeysView(_TERM_INDEX)  # ConditionTerm.keys(): the field names, in order


class PrincipalSpec:
    """A compiled ``Principal`` / ``NotPrincipal`` element."""

    __slots__ = ("wildcard", "keys", "raw")

    def __init__(self, wildcard: bool, keys: frozenset[tuple[str, ...]], raw: Any):
        self.wildcard = wildcard
        self.keys = keys
        self.raw = raw

    def strength(self, identities: tuple[tuple[tuple[str, ...], int], ...]) -> int:
        """The strongest way one of the principal's identities is named (``NOMATCH`` if none)."""
        if self.wildcard:
            return UNLIMITED
        best = NOMATCH
        keys = self.keys
        for ident, strength in identities:
            if strength > best and ident in keys:
                best = strength
        return best

    def names_every(self, identities: tuple[tuple[tuple[str, ...], int], ...]) -> bool:
        """NotPrincipal: whether *every* identity of the principal is listed (session, role, account)."""
        if self.wildcard:
            return True
        return all(ident in self.keys for ident, _ in identities)


def _principal_keys(entry: str, ptype: str) -> tuple[str, ...]:
    if ptype == "Service":
        return ("service", entry.lower())
    if ptype == "Federated":
        return ("federated", entry)
    if ptype == "CanonicalUser":
        return ("canonical", entry)
    if _ACCOUNT_ID.match(entry):
        return ("account", entry)
    arn = parse_arn(entry)
    if arn is not None:
        res = arn.resource
        if arn.service == "iam":
            if res == "root":
                return ("account", arn.account)
            kind, _, rest = res.partition("/")
            if kind in ("user", "role") and rest:
                return (kind, arn.account, rest.rsplit("/", 1)[-1].lower())
        elif arn.service == "sts":
            kind, _, rest = res.partition("/")
            if kind == "assumed-role" and rest.count("/") == 1:
                return ("session", entry)
            if kind == "federated-user" and rest:
                return ("session", entry)
    return ("other", entry)


# Compiled Principal elements, shared by every statement that names the same principals.
_PRINCIPALS: dict[Any, PrincipalSpec] = {}


def _compile_principal(raw: Any, field: str) -> PrincipalSpec:
    key: Any = None
    if raw.__class__ is dict:
        try:
            key = tuple((t, v if v.__class__ is str else tuple(v)) for t, v in raw.items())
            hit = _PRINCIPALS.get(key)
        except TypeError:  # not strings / lists of strings: compile it (and report what is wrong)
            key = hit = None
        if hit is not None:
            return hit
    spec = _principal_spec(raw, field)
    if key is not None:
        if len(_PRINCIPALS) > 100_000:
            _PRINCIPALS.clear()
        _PRINCIPALS[key] = spec
    return spec


def _principal_spec(raw: Any, field: str) -> PrincipalSpec:
    if raw == "*":
        return PrincipalSpec(True, frozenset(), raw)
    if not isinstance(raw, dict) or not raw:
        raise PolicyError('expected "*" or an object keyed by AWS, Service, Federated or CanonicalUser', field=field)
    keys: set[tuple[str, ...]] = set()
    wildcard = False
    for ptype, value in raw.items():
        if ptype not in _PRINCIPAL_TYPES:
            raise PolicyError(
                f"unknown principal type {ptype!r} (expected AWS, Service, Federated or CanonicalUser)", field=field
            )
        entries = _string_list(value, f"{field}.{ptype}")
        for entry in entries:
            if entry == "*":
                wildcard = True
                continue
            keys.add(_principal_keys(entry, ptype))
    return PrincipalSpec(wildcard, frozenset(keys), raw)


def _string_list(value: Any, field: str, *, allow_empty: bool = False) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise PolicyError("expected a string", field=f"{field}[{i}]")
        if not value and not allow_empty:
            raise PolicyError("expected a string or a non-empty list of strings", field=field)
        return list(value)
    raise PolicyError("expected a string or a list of strings", field=field)


class _ResourcePattern:
    """One ``Resource`` entry: a static glob or a template with variables."""

    __slots__ = ("text", "glob", "tokens", "variable_keys", "_cache")

    def __init__(self, text: str, variables: bool):
        self.text = text
        tokens = parse_template(text, variables=variables)
        if any(kind == VARIABLE for kind, _ in tokens):
            self.glob: Glob | None = None
            self.tokens = tokens
            self.variable_keys = tuple(v[0] for kind, v in tokens if kind == VARIABLE)
            self._cache: dict[tuple[tuple[bool, str], ...], Glob] = {}
        else:
            if all(kind == TEXT for kind, _ in tokens):
                self.glob = compile_glob(text)
            else:
                self.glob = compile_tokens([(kind == LITERAL, t) for kind, t in tokens], pattern=text)
            self.tokens = tokens
            self.variable_keys = ()

    def match(self, resource: str, ctx: Context | None) -> bool | None:
        glob = self.glob
        if glob is not None:
            return glob.match(resource)
        if ctx is None:
            ctx = Context()
        r = resolve(self.tokens, ctx)
        if r is MISSING:
            return False
        if isinstance(r, tuple):
            return None
        key = tuple(r)
        g = self._cache.get(key)
        if g is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            g = self._cache[key] = compile_tokens(r, pattern=self.text)
        return g.match(resource)


class Statement:
    """A compiled statement. Build with :func:`parse_policy`.

    Attributes: ``sid``, ``effect`` ("Allow"/"Deny"), ``index``, ``source``, ``label``,
    ``actions`` (patterns as written), ``not_action``, ``resources`` (patterns or ``None`` when
    the element is absent), ``not_resource``, ``principal`` / ``not_principal``
    (:class:`PrincipalSpec` or ``None``), ``conditions`` (compiled clauses) and ``services``
    (service prefixes the statement can match; ``None`` = any).

    Compiled for the evaluator: ``res_match`` is ``resource -> bool`` (Resource / NotResource
    applied) when the resources hold no policy variable and are not ``"*"`` (else ``None``);
    ``rmatch`` is the same callable when the statement also has no condition, i.e. when its whole
    value is a function of the resource (``None`` otherwise, and for ``unconditional`` statements).
    """

    # The evaluator's hot attributes come first: with the object header they share one cache line.
    __slots__ = (
        "unconditional",
        "rmatch",
        "res_match",
        "resource_any",
        "conditions",
        "label",
        "is_allow",
        "dynamic_resources",
        "sid",
        "effect",
        "index",
        "source",
        "actions",
        "not_action",
        "_action_globs",
        "_exact_actions",
        "resources",
        "not_resource",
        "_resource_patterns",
        "principal",
        "not_principal",
        "services",
        "raw",
        "_terms",
    )

    def matches_action(self, action: str) -> bool:
        """Whether the statement's Action / NotAction covers ``action`` (case-insensitive)."""
        return self.matches_action_lower(action.lower())

    def matches_action_lower(self, a: str) -> bool:
        """:meth:`matches_action` for an action already in lower case."""
        hit = a in self._exact_actions
        if not hit:
            for g in self._action_globs:
                if g.match(a):
                    hit = True
                    break
        return hit != self.not_action

    def matches_resource(self, resource_arn: str, ctx: Context | Mapping[str, Any] | None = None) -> bool | None:
        """Resource / NotResource against ``resource_arn`` (case-sensitive); ``None`` if unknown.

        ``ctx`` (a :class:`Context` or a plain mapping of condition keys) resolves policy
        variables (``None``: every variable is absent).
        """
        if self.resource_any:
            return True
        if ctx is not None and not isinstance(ctx, Context):
            ctx = Context(ctx)
        hit: bool | None = False
        for pat in self._resource_patterns:
            r = pat.match(resource_arn, ctx)
            if r:
                hit = True
                break
            if r is None:
                hit = None
        if hit is None:
            return None
        return hit != self.not_resource

    def resource_terms(self, negated: bool) -> tuple[ConditionTerm, ...]:
        """Terms describing an unknown resource match (a variable over an unknown key)."""
        key = ("resource", negated)
        hit = self._terms.get(key)
        if hit is None:
            keys = sorted({k for p in self._resource_patterns for k in p.variable_keys})
            op = "NotResource" if self.not_resource else "Resource"
            values = tuple(p.text for p in self._resource_patterns)
            hit = self._terms[key] = tuple(
                ConditionTerm(self.effect, op, f"${{{k}}}", values, self.source, self.sid, negated) for k in keys
            )
        return hit

    def principal_strength(self, identities: tuple[tuple[tuple[str, ...], int], ...]) -> int:
        """How this statement names the principal: UNLIMITED / ROLE / ACCOUNT / NOMATCH.

        A statement without Principal/NotPrincipal (identity policies, SCPs) names everyone.
        NotPrincipal applies unless every identity of the principal (session, role, account) is
        listed; it counts as a wildcard grant.
        """
        if self.principal is not None:
            return self.principal.strength(identities)
        if self.not_principal is not None:
            return NOMATCH if self.not_principal.names_every(identities) else UNLIMITED
        return UNLIMITED

    def condition_value(self, ctx: Context) -> bool | tuple[Clause, ...]:
        """AND of the conditions: True, False, or the tuple of clauses that are unknown."""
        unknown: list[Clause] = []
        for clause in self.conditions:
            r = clause.evaluate(ctx)
            if r is False:
                return False
            if r is None:
                unknown.append(clause)
        return tuple(unknown) if unknown else True

    def terms_for(self, clauses: Iterable[Clause], negated: bool) -> tuple[ConditionTerm, ...]:
        """ConditionTerms for unknown clauses of this statement (built once per clause set)."""
        clauses = tuple(clauses)
        key = (clauses, negated)
        hit = self._terms.get(key)
        if hit is None:
            if len(self._terms) > 256:  # at most 2 x 2^len(conditions) sets: bounded anyway
                self._terms.clear()
            hit = self._terms[key] = tuple(
                ConditionTerm(self.effect, c.operator, c.key, c.values, self.source, self.sid, negated)
                for c in clauses
            )
        return hit

    def __repr__(self) -> str:
        return f"Statement({self.label}, {self.effect})"


_EMPTY: tuple[tuple[Statement, ...], tuple[Statement, ...]] = ((), ())
NO_CANDIDATES = _EMPTY  # what Policy.candidates / Policy.lookup give when no statement matches (this object)


@functools.lru_cache(maxsize=1)
def _known_actions() -> frozenset[str]:
    """Every catalogued action, lower-case ``service:action``."""
    from iamreach.graph.policy.catalog import default_catalog

    cat = default_catalog()
    return frozenset(a.lower() for s in cat.services() for a in cat.expand(f"{s}:*"))


@functools.lru_cache(maxsize=1)
def _canonical() -> dict[str, str]:
    return {a: a for a in _known_actions()}


def canonical_action(action_lower: str) -> str:
    """The one string object the engine uses for a catalogued lower-case action (``action_lower``
    itself when it is not catalogued). Policy action tables and requests share it, so a lookup
    finds its key by identity, without reading the key's characters (which are cold in memory
    when thousands of policies are in play).

    >>> canonical_action("s3:getobject") is canonical_action("S3:GetObject".lower())
    True
    """
    return _canonical().get(action_lower, action_lower)


def known_actions() -> frozenset[str]:
    """Every catalogued action, lower-case ``service:action`` (loaded once).

    ``Policy.lookup`` is complete for these actions: see :attr:`Policy.absent`.
    """
    return _known_actions()


@functools.lru_cache(maxsize=8192)
def _expand_known(pattern_lower: str) -> frozenset[str]:
    """Catalogued actions (lower-case) matching a service-scoped glob such as ``s3:get*``."""
    from iamreach.graph.policy.catalog import default_catalog

    return frozenset(a.lower() for a in default_catalog().expand(pattern_lower))


def _index(st: Statement) -> int:
    return st.index


def _union(base: tuple[Statement, ...], extra: Iterable[Statement]) -> tuple[Statement, ...]:
    """``base`` plus ``extra`` (statements of the same policy, none in ``base``), in statement order."""
    if not extra:
        return base
    if not base:
        return tuple(extra)
    return tuple(sorted((*base, *extra), key=_index))


def _service_level(st: Statement) -> bool:
    """Whether the statement's Action / NotAction match depends only on the service prefix:
    no literal action, and every pattern is ``*`` or ``service:*``."""
    if st._exact_actions:
        return False
    for g in st._action_globs:
        pattern = g.pattern
        if g.matches_everything:
            continue
        if not (pattern.endswith(":*") and g.literal_prefix == pattern[:-1] and ":" not in pattern[:-2]):
            return False
    return True


class Policy:
    """A compiled policy document: ``source``, ``kind``, ``version``, ``statements``."""

    __slots__ = ("lookup", "absent", "source", "kind", "version", "id", "statements", "variables", "_by_service",
                 "_exact_split", "_wild", "_wild_services", "_wild_denies", "_wild_allows", "_by_wild_service",
                 "_cache")  # the evaluator's hot attributes first

    def __init__(self, source: str, kind: str, version: str | None, pid: str | None, statements: tuple[Statement, ...]):
        self.source = source
        self.kind = kind
        self.version = version
        self.id = pid
        self.statements = statements
        self.variables = version == "2012-10-17"
        by_service: dict[str, list[Statement]] = {}
        exact: dict[str, list[Statement]] = {}
        wild: list[Statement] = []
        canon = _canonical()
        for st in statements:
            if st.services is None:
                wild.append(st)
                continue
            for a in st._exact_actions:
                exact.setdefault(canon.get(a, a), []).append(st)
            if st._action_globs:
                for svc in st.services:
                    by_service.setdefault(svc, []).append(st)
                # Service-scoped globs (``s3:Get*``) are expanded against the catalogue once, so
                # that catalogued actions are answered by one dict lookup; other actions fall back
                # to glob matching below.
                for g in st._action_globs:
                    for a in _expand_known(g.pattern):
                        exact.setdefault(canon.get(a, a), []).append(st)
        self._by_service = {k: tuple(v) for k, v in by_service.items()}
        self._exact_split: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = {}
        split: dict[tuple[Statement, ...], tuple[tuple[Statement, ...], tuple[Statement, ...]]] = {}
        for a, found in exact.items():
            sts = tuple(dict.fromkeys(found))
            pair = split.get(sts)  # the actions a glob expands to share one (denies, allows) pair
            if pair is None:
                pair = split[sts] = (tuple(st for st in sts if not st.is_allow), tuple(st for st in sts if st.is_allow))
            self._exact_split[a] = pair
        self._wild = tuple(wild)
        # Wildcard-service statements whose match depends on the service prefix alone ("*",
        # NotAction ["iam:*", ...]) are matched once per service; the others once per action.
        per_action = [st for st in wild if not _service_level(st)]
        self._wild_services = tuple(st for st in wild if _service_level(st))
        self._wild_denies = tuple(st for st in per_action if not st.is_allow)
        self._wild_allows = tuple(st for st in per_action if st.is_allow)
        self._by_wild_service: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = {}
        self._cache: dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...]]] = {}
        # The evaluator's hot path, for a catalogued action: ``lookup.get(action_lower, absent)`` is
        # the ``candidates()`` answer, or ``None`` (then call :meth:`candidates`, which caches).
        self.lookup = self._exact_split if not self._wild else self._cache
        self.absent = None if self._wild else _EMPTY
        _known_actions()  # loaded once, at parse time rather than on the first evaluation

    def candidates(self, action_lower: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """``(denies, allows)``: the statements whose Action/NotAction match ``action_lower``.

        ``action_lower`` must be lower-case. Results are cached per action.
        """
        service = action_lower.partition(":")[0]
        listed = action_lower in _known_actions() or service not in self._by_service
        if listed and not self._wild:
            # Literal actions and catalogued expansions of globs: precomputed, no cache needed.
            return self._exact_split.get(action_lower, _EMPTY)
        hit = self._cache.get(action_lower)
        if hit is not None:
            return hit
        if listed and not self._wild_denies and not self._wild_allows and ":" in action_lower:
            # the common case: the wildcard-service statements all match by service (``*``,
            # ``NotAction: iam:*``); an action no statement lists gets its service's shared pair
            svc = self._by_wild_service.get(service) or self._wild_for_service(service)
            exact = self._exact_split.get(action_lower)
            if exact is None:
                hit = svc if svc[0] or svc[1] else _EMPTY
            else:
                hit = (_union(exact[0], svc[0]), _union(exact[1], svc[1]))
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[action_lower] = hit
            return hit
        if listed:
            denies, allows = self._exact_split.get(action_lower, _EMPTY)
        else:  # an uncatalogued action of a service that some glob names
            listed_denies, listed_allows = self._exact_split.get(action_lower, _EMPTY)
            found = [*listed_denies, *listed_allows]
            found.extend(st for st in self._by_service[service] if st.matches_action_lower(action_lower))
            found = sorted(set(found), key=_index)
            denies = tuple(st for st in found if not st.is_allow)
            allows = tuple(st for st in found if st.is_allow)
        if self._wild_services:
            if ":" in action_lower:
                svc_denies, svc_allows = self._wild_for_service(service)
            else:  # not "service:action": no service prefix to share the answer with
                svc_denies = tuple(st for st in self._wild_services if not st.is_allow and st.matches_action_lower(action_lower))
                svc_allows = tuple(st for st in self._wild_services if st.is_allow and st.matches_action_lower(action_lower))
            denies = _union(denies, svc_denies)
            allows = _union(allows, svc_allows)
        if self._wild_denies or self._wild_allows:
            denies = _union(denies, [st for st in self._wild_denies if st.matches_action_lower(action_lower)])
            allows = _union(allows, [st for st in self._wild_allows if st.matches_action_lower(action_lower)])
        hit = (denies, allows) if denies or allows else _EMPTY
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[action_lower] = hit
        return hit

    def _wild_for_service(self, service: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
        """``(denies, allows)`` among the service-level wildcard statements, for ``service``."""
        hit = self._by_wild_service.get(service)
        if hit is None:
            probe = f"{service}:"  # "svc:*" and "*" match it exactly when they match every svc action
            found = [st for st in self._wild_services if st.matches_action_lower(probe)]
            hit = self._by_wild_service[service] = (
                tuple(st for st in found if not st.is_allow),
                tuple(st for st in found if st.is_allow),
            )
        return hit

    def allowed_action_patterns(self) -> tuple[str, ...]:
        """Action patterns an Allow statement of this policy can grant (lower-case).

        A ``NotAction`` Allow statement contributes ``"*"`` (an over-approximation): use
        :meth:`Statement.matches_action` for the exact answer.
        """
        out: list[str] = []
        for st in self.statements:
            if not st.is_allow:
                continue
            if st.not_action:
                out.append("*")
            else:
                out.extend(a.lower() for a in st.actions)
        return tuple(dict.fromkeys(out))

    def __repr__(self) -> str:
        return f"Policy({self.source!r}, {len(self.statements)} statements)"


class PolicyIndex:
    """Statements of many policies indexed by service prefix.

    ``statements_for(action)`` returns ``(policy, statement)`` pairs whose Action/NotAction
    matches ``action``; statements with a wildcard service (``*``, ``s*:Get*``, NotAction) are
    always considered.

    >>> a = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}, source="A")
    >>> b = parse_policy({"Statement": {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}}, source="B")
    >>> [p.source for p, _ in PolicyIndex([a, b]).statements_for("s3:GetObject")]
    ['A']
    """

    def __init__(self, policies: Iterable[Policy]):
        self.policies = tuple(policies)
        self._by_service: dict[str, list[tuple[Policy, Statement]]] = {}
        self._wild: list[tuple[Policy, Statement]] = []
        for p in self.policies:
            for st in p.statements:
                if st.services is None:
                    self._wild.append((p, st))
                else:
                    for svc in st.services:
                        self._by_service.setdefault(svc, []).append((p, st))
        self._cache: dict[str, tuple[tuple[Policy, Statement], ...]] = {}

    def statements_for(self, action: str) -> tuple[tuple[Policy, Statement], ...]:
        a = action.lower()
        hit = self._cache.get(a)
        if hit is None:
            pool = [*self._by_service.get(a.partition(":")[0], ()), *self._wild]
            hit = tuple(ps for ps in pool if ps[1].matches_action(a))
            self._cache[a] = hit
        return hit

    def services(self) -> frozenset[str]:
        """Service prefixes named by some statement (wildcard-service statements excluded)."""
        return frozenset(self._by_service)

    def has_wildcard_service(self) -> bool:
        """Whether some statement can match actions of any service."""
        return bool(self._wild)


# -- parsing --------------------------------------------------------------------------------------
def _load(doc: Any) -> Any:
    if isinstance(doc, dict):
        return doc
    if isinstance(doc, bytes | bytearray | memoryview):
        try:
            doc = bytes(doc).decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError("policy document is not UTF-8 text") from None
    if not isinstance(doc, str):
        raise PolicyError(f"expected a policy document (object, JSON text or bytes), got {type(doc).__name__}")
    text = doc.strip()
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if "%" in text:
        try:
            return json.loads(unquote(text, errors="strict"))
        except (ValueError, RecursionError, UnicodeDecodeError):
            pass
    raise PolicyError("policy document is not valid JSON (nor URL-encoded JSON)")


def parse_policy(doc: dict[str, Any] | str | bytes, *, source: str = "inline", kind: str = "identity") -> Policy:
    """Validate and compile a policy document.

    ``doc`` may be a dict, JSON text, or URL-encoded JSON text (as the IAM API returns it).
    ``kind`` is one of ``identity``, ``resource``, ``trust``, ``boundary``, ``session``,
    ``scp``, ``rcp``, ``vpce``: identity-like kinds may not name principals and need
    Resource/NotResource; resource-like kinds (``resource``, ``trust``, ``rcp``) must name
    principals. Raises :class:`~iamreach.errors.PolicyError` for anything else.

    >>> parse_policy("%7B%22Statement%22%3A%5B%5D%7D").statements
    ()
    """
    if kind not in POLICY_KINDS:
        raise PolicyError(f"unknown policy kind {kind!r} (expected one of {', '.join(POLICY_KINDS)})")
    data = _load(doc)
    if not isinstance(data, dict):
        raise PolicyError("expected a JSON object with a Statement element")
    for key in data:
        if key not in _TOP_KEYS:
            raise PolicyError(f"unknown top-level element {key!r} (expected Version, Id, Statement)", field=str(key))
    version = data.get("Version")
    if version is not None and version not in ("2012-10-17", "2008-10-17"):
        raise PolicyError('expected "2012-10-17" or "2008-10-17"', field="Version")
    pid = data.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise PolicyError("expected a string", field="Id")
    if "Statement" not in data:
        raise PolicyError("missing Statement element", field="Statement")
    raw_statements = data["Statement"]
    if isinstance(raw_statements, dict):
        items = [("Statement", raw_statements)]
    elif isinstance(raw_statements, list):
        items = [(f"Statement[{i}]", s) for i, s in enumerate(raw_statements)]
    else:
        raise PolicyError("expected a statement object or a list of them", field="Statement")
    variables = version == "2012-10-17"
    statements = tuple(
        _compile_statement(raw, i, field, source=source, kind=kind, variables=variables)
        for i, (field, raw) in enumerate(items)
    )
    return Policy(source, kind, version, pid, statements)


def _compile_statement(raw: Any, index: int, field: str, *, source: str, kind: str, variables: bool) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError("expected a statement object", field=field)
    for key in raw:
        if key not in _STATEMENT_KEYS:
            raise PolicyError(f"unknown statement element {key!r}", field=f"{field}.{key}")
    st = Statement()
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError("expected a string", field=f"{field}.Sid")
    st.sid = sid
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError('expected "Allow" or "Deny"', field=f"{field}.Effect")
    st.effect = effect
    st.is_allow = effect == "Allow"
    st.index = index
    st.source = source
    st.label = f"{source} statement {sid!r} (#{index})" if sid else f"{source} statement #{index}"
    st.raw = raw

    # Action / NotAction
    has_a, has_na = "Action" in raw, "NotAction" in raw
    if has_a == has_na:
        raise PolicyError("expected exactly one of Action or NotAction", field=f"{field}.Action")
    akey = "Action" if has_a else "NotAction"
    actions = tuple(_string_list(raw[akey], f"{field}.{akey}"))
    parts = _ACTION_PARTS.get(actions)
    if parts is None:
        parts = _action_parts(actions, f"{field}.{akey}", isinstance(raw[akey], list))
    st.actions, st._action_globs, st._exact_actions, services = parts
    st.not_action = not has_a
    st.services = None if (services is None or st.not_action) else services

    # Resource / NotResource
    has_r, has_nr = "Resource" in raw, "NotResource" in raw
    if has_r and has_nr:
        raise PolicyError("expected only one of Resource or NotResource", field=f"{field}.Resource")
    if not has_r and not has_nr:
        if kind in _RESOURCE_REQUIRED_KINDS:
            raise PolicyError("expected Resource or NotResource", field=f"{field}.Resource")
        st.resources = None
        st.not_resource = False
        st._resource_patterns = ()
        st.resource_any = True
        st.dynamic_resources = False
    else:
        rkey = "Resource" if has_r else "NotResource"
        resources = _string_list(raw[rkey], f"{field}.{rkey}")
        st.resources = tuple(resources)
        st.not_resource = has_nr
        st._resource_patterns = tuple(_ResourcePattern(r, variables) for r in resources)
        st.resource_any = (not has_nr) and any(
            p.glob is not None and p.glob.matches_everything for p in st._resource_patterns
        )
        st.dynamic_resources = any(p.glob is None for p in st._resource_patterns)

    # Principal / NotPrincipal
    has_p, has_np = "Principal" in raw, "NotPrincipal" in raw
    if has_p and has_np:
        raise PolicyError("expected only one of Principal or NotPrincipal", field=f"{field}.Principal")
    if (has_p or has_np) and kind in _NO_PRINCIPAL_KINDS:
        pkey = "Principal" if has_p else "NotPrincipal"
        raise PolicyError(f"a {kind} policy cannot name principals", field=f"{field}.{pkey}")
    if not has_p and not has_np and kind in _PRINCIPAL_REQUIRED_KINDS:
        raise PolicyError(f"a {kind} policy statement needs Principal or NotPrincipal", field=f"{field}.Principal")
    st.principal = _compile_principal(raw["Principal"], f"{field}.Principal") if has_p else None
    st.not_principal = _compile_principal(raw["NotPrincipal"], f"{field}.NotPrincipal") if has_np else None

    # Condition
    if "Condition" in raw:
        st.conditions = compile_condition_block(raw["Condition"], variables=variables, field=f"{field}.Condition")
    else:
        st.conditions = ()
    st.unconditional = st.resource_any and not st.conditions
    st.res_match = None if st.resource_any or st.dynamic_resources else _resource_matcher(st)
    st.rmatch = None if st.conditions else st.res_match
    st._terms = {}
    return st


# Compiled Action / NotAction lists, shared by every statement that lists the same actions (most
# statements are stamped from a few templates: sharing them is a tenth of a large build's policy memory).
_ACTION_PARTS: dict[tuple[str, ...], tuple[Any, ...]] = {}


def _action_parts(actions: tuple[str, ...], field: str, listed: bool) -> tuple[Any, ...]:
    """``(actions, action globs, exact lower-case actions, services or None)``, validated, cached."""
    services: set[str] | None = set()
    globs = []
    exact: set[str] = set()
    for i, a in enumerate(actions):
        if a != "*" and (":" not in a or not a.partition(":")[0]):
            raise PolicyError(f'expected "*" or "service:action", got {a!r}', field=field + (f"[{i}]" if listed else ""))
        al = a.lower()
        if "*" in al or "?" in al:
            globs.append(compile_glob(al))
        else:
            exact.add(al)
        svc = al.partition(":")[0] if al != "*" else "*"
        if "*" in svc or "?" in svc:
            services = None
        elif services is not None:
            services.add(svc)
    parts = (actions, tuple(globs), frozenset(exact), None if services is None else frozenset(services))
    if len(_ACTION_PARTS) > 100_000:
        _ACTION_PARTS.clear()
    _ACTION_PARTS[actions] = parts
    return parts


def _resource_matcher(st: Statement) -> Callable[[str], bool]:
    """``resource -> bool`` for static Resource / NotResource patterns (no variables)."""
    matchers = tuple(p.glob.match for p in st._resource_patterns)  # type: ignore[union-attr]
    if len(matchers) == 1 and not st.not_resource:
        return matchers[0]
    negated = st.not_resource

    def match(resource: str) -> bool:
        for m in matchers:
            if m(resource):
                return not negated
        return negated

    return match
