"""The three-valued IAM policy evaluator (AWS's documented evaluation logic).

Order of evaluation, as documented by AWS ("Policy evaluation logic", "Cross-account policy
evaluation logic", SCP / RCP / permissions-boundary / session-policy pages):

1. The action must apply to the resource's type (``s3:GetObject`` on a bucket ARN is not a
   valid request: implicit deny).
2. An explicit ``Deny`` in any applicable policy wins: SCPs, RCPs, the resource-based policy,
   identity-based policies, permissions boundaries, the session policy, the VPC endpoint policy.
3. SCPs (principal's account) and RCPs (resource's account): every level, root first, must
   allow (one policy of a level suffices; an empty level denies). The management account,
   service-linked roles and AWS service principals are exempt; RCPs only govern the services
   that support them (:data:`RCP_SERVICES`).
4. A VPC endpoint policy, when given, must allow.
5. Grants. Same account: identity policies (intersected with every permissions boundary and
   the session policy) *or* a resource-based policy that names the principal. A resource
   policy naming an IAM *role* ARN is still limited by the boundary and session policy; naming
   a user ARN, a role-session ARN or ``*`` is not; naming the account (root or id) only
   delegates to IAM. Cross account: the identity side *and* the resource policy must allow.
   Trust policies and KMS key policies are *required*: they must allow even in the same
   account, and a role may only assume itself when its trust policy names it.

Every value is ``True``, ``False`` or unknown (a tuple of the :class:`ConditionTerm` it
depends on), combined with Kleene logic. Unknown values arise only in ``"unknown"`` mode.

Examples
--------
>>> from iamreach.graph.policy.document import parse_policy
>>> p = parse_policy({"Version": "2012-10-17", "Statement": [
...     {"Sid": "ReadAll", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
...     source="arn:aws:iam::111122223333:policy/P")
>>> r = evaluate(Request("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::b/k"),
...              identity_policies=[p])
>>> r.decision, r.denial
(<Decision.ALLOWED: 'allowed'>, None)
>>> r.explanation[0]
"identity: allowed by arn:aws:iam::111122223333:policy/P statement 'ReadAll' (#0)"
>>> evaluate(Request("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::b"),
...          identity_policies=[p]).explanation
('s3:GetObject does not apply to resource type bucket',)
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from iamreach.errors import InputError
from iamreach.graph.policy.catalog import ActionCatalog, default_catalog
from iamreach.graph.policy.document import (
    ACCOUNT,
    NOMATCH,
    ROLE,
    UNLIMITED,
    ConditionTerm,
    Policy,
    Statement,
    canonical_action,
    known_actions,
)
from iamreach.graph.policy.document import NO_CANDIDATES as _NONE
from iamreach.graph.policy.variables import Context
from iamreach.graph.policy.wildcard import parse_arn

__all__ = [
    "Decision",
    "LowerKeys",
    "Request",
    "Result",
    "PolicyLevel",
    "PrincipalInfo",
    "evaluate",
    "principal_info",
    "RCP_SERVICES",
]

# Services whose resources resource control policies govern (AWS Organizations RCP docs).
RCP_SERVICES = frozenset({"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-identity", "logs", "dynamodb"})

_ASSUME_ACTIONS = frozenset({"sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"})
# Actions a role's trust policy must also allow when they accompany an AssumeRole* call.
_TRUST_ACTIONS = _ASSUME_ACTIONS | {"sts:tagsession", "sts:setsourceidentity", "sts:setcontext"}
_FEDERATED_ACTIONS = frozenset({"sts:assumerolewithwebidentity", "sts:assumerolewithsaml"})


class Decision(enum.StrEnum):
    """The answer: allowed, denied, or allowed only under listed conditions."""

    ALLOWED = "allowed"
    DENIED = "denied"
    CONDITIONAL = "conditional"


class _ResultFields(NamedTuple):
    decision: Decision
    denial: str | None
    conditions: tuple[ConditionTerm, ...]
    explanation: tuple[str, ...]


_tuple_new = tuple.__new__
_item = tuple.__getitem__


class _Lazy:
    """An explanation formatted on first read: evaluation keeps the data, not the strings."""

    __slots__ = ("fn", "args", "lines")

    def __init__(self, fn: Any, args: tuple[Any, ...]):
        self.fn = fn
        self.args = args
        self.lines: tuple[str, ...] | None = None

    def get(self) -> tuple[str, ...]:
        lines = self.lines
        if lines is None:
            lines = self.lines = self.fn(*self.args)
            self.args = ()
        return lines


class Result(_ResultFields):
    """An evaluation result (immutable).

    ``denial`` is ``"explicit"`` / ``"implicit"`` for DENIED, else ``None``. ``conditions``
    lists the terms a CONDITIONAL answer depends on; ``explanation`` says which layers and
    statements decided it (a tuple of strings, formatted when first read).

    A named tuple ``(decision, denial, conditions, explanation)``: indexing, unpacking,
    equality, hashing, ``repr`` and pickling see the formatted explanation.
    """

    __slots__ = ()

    @property
    def explanation(self) -> tuple[str, ...]:  # type: ignore[override]
        e = _item(self, 3)
        return e.get() if e.__class__ is _Lazy else e

    def _plain(self) -> tuple[Any, ...]:
        return (_item(self, 0), _item(self, 1), _item(self, 2), self.explanation)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._plain())

    def __getitem__(self, index: Any) -> Any:
        return self._plain()[index]

    def __contains__(self, value: object) -> bool:
        return value in self._plain()

    def __add__(self, other: Any) -> Any:
        return self._plain() + other

    def __mul__(self, n: Any) -> Any:
        return self._plain() * n

    __rmul__ = __mul__

    def count(self, value: Any) -> int:
        return self._plain().count(value)

    def index(self, value: Any, *args: Any) -> int:
        return self._plain().index(value, *args)

    def __eq__(self, other: object) -> bool:
        return self._plain() == _plain(other)

    def __ne__(self, other: object) -> bool:
        return self._plain() != _plain(other)

    def __lt__(self, other: Any) -> bool:
        return self._plain() < _plain(other)

    def __le__(self, other: Any) -> bool:
        return self._plain() <= _plain(other)

    def __gt__(self, other: Any) -> bool:
        return self._plain() > _plain(other)

    def __ge__(self, other: Any) -> bool:
        return self._plain() >= _plain(other)

    def __hash__(self) -> int:
        return hash(self._plain())

    def __getnewargs__(self) -> tuple[Any, ...]:
        return self._plain()

    def __repr__(self) -> str:
        d, den, c, e = self._plain()
        return f"Result(decision={d!r}, denial={den!r}, conditions={c!r}, explanation={e!r})"

    def to_dict(self) -> dict[str, Any]:
        """``{"decision", "denial", "conditions": [...], "explanation": [...]}``."""
        return {
            "decision": self.decision.value,
            "denial": self.denial,
            "conditions": [t.to_dict() for t in self.conditions],
            "explanation": list(self.explanation),
        }


def _plain(value: Any) -> Any:
    return value._plain() if isinstance(value, Result) else value


_ALLOWED, _DENIED, _CONDITIONAL = Decision.ALLOWED, Decision.DENIED, Decision.CONDITIONAL


class PolicyLevel(NamedTuple):
    """One SCP/RCP level (root, an OU, the account) with an optional label for explanations."""

    policies: tuple[Policy, ...]
    label: str | None = None


class PrincipalInfo(NamedTuple):
    """What the engine knows about a request principal (see :func:`principal_info`)."""

    kind: str  # user | role | session | federated-user | root | service | federated | anonymous | other
    arn: str
    account: str | None
    identities: tuple[tuple[tuple[str, ...], int], ...]
    role_key: tuple[str, str] | None  # (account, lower-case role name) for roles and role sessions
    is_iam: bool
    service_linked: bool
    name: str | None


_PINFO_CACHE: dict[tuple[str, bool], PrincipalInfo] = {}


def principal_info(principal: str, *, federated_action: bool = False) -> PrincipalInfo:
    """Classify a request principal string.

    >>> principal_info("arn:aws:sts::111122223333:assumed-role/R/s").kind
    'session'
    >>> principal_info("lambda.amazonaws.com").kind, principal_info("anonymous").kind
    ('service', 'anonymous')
    >>> principal_info("111122223333").kind
    'root'
    """
    key = (principal, federated_action)
    hit = _PINFO_CACHE.get(key)
    if hit is None:
        hit = _classify(principal, federated_action)
        if len(_PINFO_CACHE) > 100_000:
            _PINFO_CACHE.clear()
        _PINFO_CACHE[key] = hit
    return hit


def _classify(principal: str, federated_action: bool) -> PrincipalInfo:
    p = principal.strip()
    if p in ("anonymous", "*", ""):
        return PrincipalInfo("anonymous", p, None, (), None, False, False, None)
    if len(p) == 12 and p.isdigit():
        root = f"arn:aws:iam::{p}:root"
        return PrincipalInfo("root", root, p, ((("account", p), ACCOUNT),), None, True, False, None)
    arn = parse_arn(p)
    if arn is None:
        kind = "federated" if federated_action else "service"
        ident = ("federated", p) if kind == "federated" else ("service", p.lower())
        return PrincipalInfo(kind, p, None, ((ident, UNLIMITED),), None, False, False, p)
    acc = arn.account or None
    acct = ((("account", acc), ACCOUNT),) if acc else ()
    kind, _, rest = arn.resource.partition("/")
    if arn.service == "iam":
        if arn.resource == "root":
            return PrincipalInfo("root", p, acc, acct, None, True, False, None)
        if kind == "user" and rest:
            name = rest.rsplit("/", 1)[-1]
            return PrincipalInfo("user", p, acc, (((kind, acc or "", name.lower()), UNLIMITED), *acct), None, True, False, name)
        if kind == "role" and rest:
            name = rest.rsplit("/", 1)[-1]
            slr = rest.startswith("aws-service-role/")
            rk = (acc or "", name.lower())
            return PrincipalInfo("role", p, acc, ((("role", *rk), ROLE), *acct), rk, True, slr, name)
        if kind in ("saml-provider", "oidc-provider"):
            return PrincipalInfo("federated", p, acc, ((("federated", p), UNLIMITED),), None, False, False, rest)
    if arn.service == "sts":
        if kind == "assumed-role" and rest.count("/") >= 1:
            role, _, _session = rest.partition("/")
            rk = (acc or "", role.lower())
            idents = ((("session", p), UNLIMITED), (("role", *rk), ROLE), *acct)
            return PrincipalInfo("session", p, acc, idents, rk, True, False, role)
        if kind == "federated-user" and rest:
            return PrincipalInfo("federated-user", p, acc, ((("session", p), UNLIMITED), *acct), None, True, False, rest)
    return PrincipalInfo("other", p, acc, ((("other", p), UNLIMITED), *acct), None, bool(acc), False, None)


_PRINCIPAL_TYPES = {
    "user": "User",
    "role": "AssumedRole",
    "session": "AssumedRole",
    "federated-user": "FederatedUser",
    "root": "Account",
    "anonymous": "Anonymous",
}


class LowerKeys(dict):
    """A request context whose keys are lower-case already. :class:`Request` lower-cases the keys
    of any other mapping on first use (once per mapping while it stays unchanged: see
    ``_LOWERED``); this one it reads as it is, so a caller
    that asks many requests with mostly the same keys (the graph builder: one context per actor,
    plus the resource's keys) lower-cases each key once instead of once per request. The keys
    must be lower-case, and the mapping must not change while a request that holds it is in use.

    >>> ctx = LowerKeys({"aws:sourceip": "10.0.0.1"})
    >>> Request("arn:aws:iam::111122223333:user/a", "s3:GetObject", "arn:aws:s3:::b/k",
    ...         context=ctx).context_view().values is ctx
    True
    """

    __slots__ = ()


@dataclass(slots=True)
class Request:
    """One authorization request.

    ``context`` holds condition keys (case-insensitive). ``unknown_keys="absent"``: a key not
    in ``context`` is absent (complete context). ``"unknown"``: keys in ``context`` or
    ``known_keys`` are known, every other key is unknown (analysis mode, answers may be
    CONDITIONAL). ``principal_account`` is derived from the principal ARN when not given;
    ``resource_account`` from the resource ARN (S3 ARNs carry none: pass it).

    Keys the request itself determines are derived when not supplied: ``aws:PrincipalAccount``,
    ``aws:PrincipalArn`` (for a role session, in ``"absent"`` mode only, the role ARN with path ``/``:
    the session ARN does not carry the path),
    ``aws:username`` (IAM users), ``aws:PrincipalType``, ``aws:PrincipalIsAWSService``,
    ``aws:PrincipalServiceName`` (service principals), ``aws:ResourceAccount`` and, for ``kms:``
    actions, ``kms:CallerAccount`` (the principal's account).
    """

    principal: str
    action: str
    resource: str
    resource_account: str | None = None
    principal_account: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    unknown_keys: str = "absent"
    known_keys: frozenset[str] | None = None
    _action_l: str = field(default="", init=False, repr=False, compare=False)
    _ctx: Context | None = field(default=None, init=False, repr=False, compare=False)
    _info: PrincipalInfo | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.unknown_keys not in ("absent", "unknown"):
            raise InputError('expected "absent" or "unknown"', field="unknown_keys")
        self._action_l = canonical_action(self.action.lower())
        if self.principal_account is None:
            self.principal_account = self.info().account

    def info(self) -> PrincipalInfo:
        """The classified principal."""
        info = self._info
        if info is None:
            info = self._info = principal_info(
                self.principal, federated_action=self._action_l in _FEDERATED_ACTIONS
            )
        return info

    def effective_principal_account(self) -> str | None:
        return self.principal_account or self.info().account

    def effective_resource_account(self) -> str | None:
        if self.resource_account:
            return self.resource_account
        return _arn_account(self.resource)

    def context_view(self) -> Context:
        """The request context with derived keys (built once, on first use)."""
        ctx = self._ctx
        if ctx is None:
            unknown = self.unknown_keys == "unknown"
            values: dict[str, Any] = {}
            given = self.context
            if given.__class__ is LowerKeys:  # lower-cased by the caller: read as it is
                values = given  # type: ignore[assignment]
            elif given:
                hit = _LOWERED.get(id(given))
                if hit is not None and hit[0] is given and hit[1] == given:
                    values = hit[2]  # the same mapping as before, unchanged since
                else:
                    values = _lowered(given)
            info = self._info or self.info()
            ctx = self._ctx = _new(Context)
            ctx.values = values
            derived = ctx.defaults = _new(_DerivedKeys)  # worked out when first read
            derived._args = (info, unknown, self.principal_account or info.account, self.resource_account,
                             self.resource, self._action_l)
            derived._keys = None
            ctx.unknown = unknown
            known = self.known_keys
            ctx.known = _lower_keys(known) if known else _NO_KEYS
        return ctx


# Callers' context mappings lower-cased, by identity: id -> (the mapping, a shallow copy of it, its
# lower-cased dict). A hit needs the same object, still equal to its copy (a key added, removed or
# given another value since misses), so requests that share one context dict (a simulation over
# many actions or resources, a benchmark's pool) lower-case it once. Values are the caller's own
# objects in both, as before. Holding the mapping keeps its id from being reused; bounded.
_LOWERED: dict[int, tuple[Mapping[str, Any], dict[str, Any], dict[str, Any]]] = {}
_LOWERED_MAX = 4096


def _lowered(given: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    try:
        for k, v in given.items():
            values[k.lower()] = v
    except AttributeError:  # a key that is not a string: start again, the slow way
        values.clear()
        for k, v in given.items():
            values[str(k).lower()] = v
    if len(_LOWERED) >= _LOWERED_MAX:
        _LOWERED.clear()
    _LOWERED[id(given)] = (given, dict(given), values)
    return values


class _DerivedKeys(Mapping[str, str]):
    """A request context's ``defaults`` (the keys the request determines, :func:`_derived`), worked
    out on the first read: most contexts are only read for keys the caller gave, or not at all.
    Holds the request's values, not the request (no reference cycle)."""

    __slots__ = ("_args", "_keys")

    _args: tuple[Any, ...]
    _keys: dict[str, str] | None

    def _work_out(self) -> dict[str, str]:
        keys = self._keys
        if keys is None:
            info, unknown, account, resource_account, resource, act = self._args
            keys = self._keys = _derived(
                info, unknown, account, resource_account or _arn_account(resource), act.startswith("kms:")
            )
        return keys

    def get(self, key: str, default: Any = None) -> Any:
        keys = self._keys
        return (keys if keys is not None else self._work_out()).get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._work_out()

    def __getitem__(self, key: str) -> str:
        return self._work_out()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._work_out())

    def __len__(self) -> int:
        return len(self._work_out())


_DERIVED: dict[str, tuple[PrincipalInfo, dict[Any, dict[str, str]]]] = {}
_new = object.__new__


def _derived(info: PrincipalInfo, unknown: bool, account: str | None, resource_account: str | None,
             kms: bool = False) -> dict[str, str]:
    """The context keys the request determines (what the caller gives wins: they are the context's
    ``defaults``). Cached per principal ARN (an entry is reused only for the same ``info``), then
    per mode, accounts and whether the action is a KMS one (``kms:CallerAccount``, the caller's
    account, is set on every KMS request); never mutated."""
    entry = _DERIVED.get(info.arn)
    if entry is None or entry[0] is not info:
        if len(_DERIVED) > 100_000:
            _DERIVED.clear()
        entry = _DERIVED[info.arn] = (info, {})
    key = (unknown, account, resource_account, kms)
    keys = entry[1].get(key)
    if keys is None:
        keys = _derived_keys(info, unknown)
        if account:
            keys["aws:principalaccount"] = account
            if kms:
                keys["kms:calleraccount"] = account
        if resource_account:
            keys["aws:resourceaccount"] = resource_account
        if len(entry[1]) > 1000:
            entry[1].clear()
        entry[1][key] = keys
    return keys


def _derived_keys(info: PrincipalInfo, unknown: bool) -> dict[str, str]:
    """The context keys a principal determines (lower-case)."""
    keys = {}
    if info.kind in ("user", "role", "root", "federated-user"):
        keys["aws:principalarn"] = info.arn
    elif info.kind == "session" and not unknown and info.role_key:
        # The session ARN drops the role's path: assume "/" (complete-context mode only).
        partition = info.arn.split(":", 2)[1]
        keys["aws:principalarn"] = f"arn:{partition}:iam::{info.account}:role/{info.name}"
    if info.kind == "user" and info.name:
        keys["aws:username"] = info.name
    ptype = _PRINCIPAL_TYPES.get(info.kind)
    if ptype:
        keys["aws:principaltype"] = ptype
    keys["aws:principalisawsservice"] = "true" if info.kind == "service" else "false"
    if info.kind == "service":
        keys["aws:principalservicename"] = info.arn
    return keys


_NO_KEYS: frozenset[str] = frozenset()
_LOWER_KEYS: dict[frozenset[str], frozenset[str]] = {}


def _lower_keys(keys: frozenset[str] | set[str] | None) -> frozenset[str]:
    """``known_keys`` lower-cased; cached per frozenset (callers pass the same set again and again)."""
    if not keys:
        return _NO_KEYS
    if keys.__class__ is not frozenset:
        return frozenset(k.lower() for k in keys)
    hit = _LOWER_KEYS.get(keys)  # type: ignore[call-overload]
    if hit is None:
        if len(_LOWER_KEYS) > 1024:
            _LOWER_KEYS.clear()
        hit = _LOWER_KEYS[keys] = frozenset(k.lower() for k in keys)  # type: ignore[index]
    return hit


# -- Kleene helpers: a value is True, False, or a tuple of ConditionTerms (unknown) ------------
def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a + b


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a + b


def _stmt_value(st: Statement, resource: str, req: Request, negated: bool) -> Any:
    """Resource and conditions of one (action-matching) statement: True / False / terms."""
    if st.unconditional:
        return True
    rv: bool | None = True
    if not st.resource_any:
        match = st.res_match
        if match is not None:
            if not match(resource):
                return False
        else:
            rv = st.matches_resource(resource, req._ctx or req.context_view())
            if rv is False:
                return False
    conditions = st.conditions
    if not conditions:
        return True if rv is True else st.resource_terms(negated)
    if len(conditions) == 1:  # the common case: Statement.condition_value without the loop
        cv = conditions[0].evaluate(req._ctx or req.context_view())
        if cv is None:
            cv = conditions
    else:
        cv = st.condition_value(req._ctx or req.context_view())
    if cv is False:
        return False
    if cv is True:
        return True if rv is True else st.resource_terms(negated)
    terms = st.terms_for(cv, negated)
    return terms if rv is True else st.resource_terms(negated) + terms


class _Layer:
    """Allow / deny values of one layer, with the deciding statements.

    ``title`` is the layer's name, or the pieces it is formatted from (read ``name``): names are
    only needed by explanations, which are built when read.
    """

    __slots__ = ("title", "deny", "deny_st", "allow", "allow_st")

    def __init__(self, title: Any):
        self.title = title
        self.deny: Any = False
        self.deny_st: Statement | None = None
        self.allow: Any = False
        self.allow_st: Statement | None = None

    @property
    def name(self) -> str:
        title = self.title
        if title.__class__ is str:
            return title
        kind, i, label = title
        if kind == "boundary":
            return f"permission boundary ({label})"
        return _level_name(kind, i, label)


def _scan(layer: _Layer, policies: Sequence[Policy], act: str, resource: str, req: Request, known: bool) -> bool:
    """Fill ``layer`` from policies without principals. True when an explicit deny applies.

    ``known``: whether ``act`` is a catalogued action (see :func:`known_action`).
    """
    for pol in policies:
        pair = pol.lookup.get(act, pol.absent) if known else None
        if pair is None:
            pair = pol.candidates(act)
        if pair is _NONE:
            continue
        denies, allows = pair
        for st in denies:
            if st.unconditional:
                layer.deny, layer.deny_st = True, st
                return True
            match = st.rmatch
            v = match(resource) if match is not None else _stmt_value(st, resource, req, True)
            if v is False:
                continue
            if v is True:
                layer.deny, layer.deny_st = True, st
                return True
            layer.deny = _or(layer.deny, v)
            if layer.deny_st is None:
                layer.deny_st = st
        if layer.allow is True:
            continue
        for st in allows:
            if st.unconditional:
                layer.allow, layer.allow_st = True, st
                break
            match = st.rmatch
            v = match(resource) if match is not None else _stmt_value(st, resource, req, False)
            if v is False:
                continue
            if v is True:
                layer.allow, layer.allow_st = True, st
                break
            layer.allow = _or(layer.allow, v)
            if layer.allow_st is None:
                layer.allow_st = st
    return False


class _ResourceLayer(_Layer):
    __slots__ = ("by_strength", "st_by_strength")

    def __init__(self, title: Any):
        super().__init__(title)
        self.by_strength: list[Any] = [False, False, False, False]
        self.st_by_strength: list[Statement | None] = [None, None, None, None]


def _scan_principal(
    layer: _ResourceLayer,
    policies: Sequence[Policy],
    act: str,
    resource: str,
    req: Request,
    info: PrincipalInfo,
    known: bool,
) -> bool:
    """Like :func:`_scan` for principal-bearing policies; allows are split by how they name the principal."""
    idents = info.identities
    for pol in policies:
        pair = pol.lookup.get(act, pol.absent) if known else None
        if pair is None:
            pair = pol.candidates(act)
        if pair is _NONE:
            continue
        denies, allows = pair
        for st in denies:
            if st.principal_strength(idents) == NOMATCH:
                continue
            v = _stmt_value(st, resource, req, True)
            if v is False:
                continue
            if v is True:
                layer.deny, layer.deny_st = True, st
                return True
            layer.deny = _or(layer.deny, v)
            if layer.deny_st is None:
                layer.deny_st = st
        for st in allows:
            s = st.principal_strength(idents)
            if s == NOMATCH or layer.by_strength[s] is True:
                continue
            v = _stmt_value(st, resource, req, False)
            if v is False:
                continue
            layer.by_strength[s] = _or(layer.by_strength[s], v)
            if v is True or layer.st_by_strength[s] is None:
                layer.st_by_strength[s] = st
    for s in (UNLIMITED, ROLE, ACCOUNT):
        v = layer.by_strength[s]
        if v is not False:
            layer.allow = _or(layer.allow, v)
            if layer.allow_st is None or v is True:
                layer.allow_st = layer.st_by_strength[s]
    return False


def _level(lvl: Any) -> tuple[str | None, Sequence[Policy]]:
    """``(label, policies)`` of one SCP / RCP level (a :class:`PolicyLevel`, a policy or a sequence)."""
    if lvl.__class__ is PolicyLevel:
        return lvl.label, lvl.policies
    if isinstance(lvl, PolicyLevel):
        return lvl.label, lvl.policies
    if isinstance(lvl, Policy):
        return None, (lvl,)
    return None, lvl


_UNKNOWN = object()  # _lean_scan: some statement's value is unknown (take the general path)


def _lean_scan(policies: Sequence[Policy], act: str, resource: str, req: Request, known: bool) -> Any:
    """One layer when every value must be certain: the allowing statement, ``None`` (no allow),
    ``(deny_statement,)`` (explicit deny) or :data:`_UNKNOWN`.

    Statements are visited in :func:`_scan`'s order, so the deciding statements are the same.
    """
    allow_st = None
    for pol in policies:
        pair = pol.lookup.get(act, pol.absent) if known else None
        if pair is None:
            pair = pol.candidates(act)
        if pair is _NONE:
            continue
        denies, allows = pair
        for st in denies:
            if st.unconditional:
                return (st,)
            match = st.rmatch
            v = match(resource) if match is not None else _stmt_value(st, resource, req, True)
            if v is True:
                return (st,)
            if v is not False:
                return _UNKNOWN
        if allow_st is None:
            for st in allows:
                if st.unconditional:
                    allow_st = st
                    break
                match = st.rmatch
                v = match(resource) if match is not None else _stmt_value(st, resource, req, False)
                if v is True:
                    allow_st = st
                    break
                if v is not False:
                    return _UNKNOWN
    return allow_st


def _lean(
    request: Request,
    identity_policies: Sequence[Policy],
    permission_boundaries: Sequence[Policy],
    session_policy: Policy | None,
    scps: Sequence[Any],
    act: str,
    resource: str,
    action_name: str,
    note: str | None,
    info: PrincipalInfo,
    known: bool,
    p_acc: str | None,
    r_acc: str,
    mode: str,
    mgmt: bool,
    slr: bool,
) -> Result | None:
    """Requests with no resource-side policy (resource policy, RCP, VPC endpoint policy): identity
    policies, boundaries, session policy, SCPs. Cross-account (``mode`` "cross") or when a trust /
    key policy is required ("required"), nothing grants (implicit deny) unless an explicit deny applies.

    Returns ``None`` (take the general path) as soon as any value is unknown. The answer, and
    the explanation (formatted when read), are the general path's.
    """
    slr = slr or info.service_linked
    scp_applies = bool(scps) and not mgmt and not slr
    scp_allows: list[tuple[str | None, int, Statement | None]] = []
    allowed = True
    if scp_applies:
        for i, lvl in enumerate(scps, 1):
            label, pols = _level(lvl)
            r = _lean_scan(pols, act, resource, request, known)
            if r is _UNKNOWN:
                return None
            if r.__class__ is tuple:
                return _explicit_result(("scp", i, label), r[0])
            if r is None:
                allowed = False
            scp_allows.append((label, len(pols), r))
    ident = _lean_scan(identity_policies, act, resource, request, known)
    if ident is _UNKNOWN:
        return None
    if ident.__class__ is tuple:
        return _identity_result(ident, action_name, note)
    if ident is None:
        allowed = False
    bounds: list[tuple[str, Statement | None]] = []
    for pb in permission_boundaries:
        r = _lean_scan((pb,), act, resource, request, known)
        if r is _UNKNOWN:
            return None
        if r.__class__ is tuple:
            return _explicit_result(("boundary", 0, pb.source), r[0])
        if r is None:
            allowed = False
        bounds.append((pb.source, r))
    sess: Any = _UNKNOWN  # no session policy
    if session_policy is not None:
        sess = _lean_scan((session_policy,), act, resource, request, known)
        if sess is _UNKNOWN:
            return None
        if sess.__class__ is tuple:
            return _explicit_result("session policy", sess[0])
        if sess is None:
            allowed = False
    decision = _ALLOWED if allowed and mode == "same" else _DENIED
    lines = _Lazy(
        _explain_lean,
        (decision, info, action_name, ident, bounds, sess, scp_allows, note, p_acc, r_acc, mode, act, resource, scps,
         scp_applies, mgmt, slr),
    )
    return _tuple_new(Result, (decision, None if decision is _ALLOWED else "implicit", (), lines))


# Implicit denies of identity policies alone, per (action, note), and their allows, per (allowing
# statement, note): the same immutable Result.
_NO_ALLOW: dict[tuple[str, str | None], Result] = {}
_ALLOWED_BY: dict[tuple[Statement, str | None], Result] = {}


def _identity_result(ident: Any, action_name: str, note: str | None) -> Result:
    """The answer of identity policies alone (a statement, ``None`` or ``(deny statement,)``)."""
    if ident is None:
        hit = _NO_ALLOW.get((action_name, note))
        if hit is None:
            line = f"identity: no statement allows {action_name}"
            hit = _tuple_new(Result, (_DENIED, "implicit", (), (line, note) if note else (line,)))
            if len(_NO_ALLOW) > 50_000:
                _NO_ALLOW.clear()
            _NO_ALLOW[(action_name, note)] = hit
        return hit
    if ident.__class__ is tuple:
        return _tuple_new(Result, (_DENIED, "explicit", (), (f"identity: explicit deny by {ident[0].label}",)))
    hit = _ALLOWED_BY.get((ident, note))
    if hit is None:
        line = f"identity: allowed by {ident.label}"
        hit = _tuple_new(Result, (_ALLOWED, None, (), (line, note) if note else (line,)))
        if len(_ALLOWED_BY) > 50_000:
            _ALLOWED_BY.clear()
        _ALLOWED_BY[(ident, note)] = hit
    return hit


def _certain_layer(title: Any, allow_st: Statement | None) -> _Layer:
    layer = _Layer(title)
    if allow_st is not None:
        layer.allow, layer.allow_st = True, allow_st
    return layer


def _explain_lean(
    decision: Decision,
    info: PrincipalInfo,
    action_name: str,
    ident_st: Statement | None,
    bounds: list[tuple[str, Statement | None]],
    sess_st: Any,
    scp_allows: list[tuple[str | None, int, Statement | None]],
    note: str | None,
    p_acc: str | None,
    r_acc: str | None,
    mode: str,
    act: str,
    resource: str,
    scps: Sequence[Any],
    scp_applies: bool,
    mgmt: bool,
    slr: bool,
) -> tuple[str, ...]:
    """The general path's explanation of a :func:`_lean` answer, from the deciding statements."""
    ident = _certain_layer("identity", ident_st)
    layers = [_certain_layer(("boundary", 0, source), st) for source, st in bounds]
    sess = None if sess_st is _UNKNOWN else _certain_layer("session policy", sess_st)
    scp_layers = [(_certain_layer(("scp", i, label), st), label, n) for i, (label, n, st) in enumerate(scp_allows, 1)]
    self_assume = act == "sts:assumerole" and info.role_key is not None and _role_key(resource) == info.role_key
    return _explain(
        decision, info, action_name, mode, mode == "cross", p_acc, r_acc, self_assume, mode == "required",
        ident, layers, sess, None, scp_layers, [], None, False, scps, scp_applies, (), False, mgmt, slr, note,
    )


# Per (action, resource): what the request's action and resource alone decide, cached (bounded).
# (applies, note, effective resource, canonical action, account in the resource ARN (or
# _CALLER for "*"), required: a trust / key policy is required, rcp: the service and resource are
# ones RCPs govern, catalogued action).
_FACTS: dict[str, dict[str, tuple[Any, ...]]] = {}
_CALLER = object()  # the resource is "*": the request acts in the caller's own account


def _service_linked_arn(resource: str) -> bool:
    """Is ``resource`` a service-linked role's ARN (RCPs do not govern it)?"""
    return resource.startswith("arn:") and ":role/aws-service-role/" in resource


def _facts(cat: ActionCatalog, act: str, resource: str) -> tuple[Any, ...]:
    trust, kms, rcp_service, known = _ACTION_FACTS.get(act) or _facts_of_action(act)
    applies, note, effective, canonical = cat.check(act, resource)
    required = (trust and ":role/" in effective) or (kms and ":key/" in effective)
    rcp = rcp_service and not _service_linked_arn(effective)
    account = _CALLER if resource == "*" else _arn_account(resource)
    return applies, note, effective, canonical, account, required, rcp, known


# Per action: (a trust-policy action, a KMS action, a service RCPs govern, catalogued).
_ACTION_FACTS: dict[str, tuple[bool, bool, bool, bool]] = {}


def _cached_facts(act: str, resource: str) -> tuple[Any, ...]:
    per_action = _FACTS.get(act)
    if per_action is None:
        per_action = _FACTS[act] = {}
    elif len(per_action) > 20_000:
        per_action.clear()
    facts = per_action[resource] = _default_facts(act, resource)
    return facts


# What :func:`_facts` reads of the action alone, for the default catalogue: (0 = not catalogued,
# 1 = no resource types, 2 = resource types; the catalogue's entry; its name; service prefix; the
# resource types it applies to; trust, kms, rcp_service, known as in _ACTION_FACTS; the note of
# an uncatalogued action / of one without resource-level permissions).
_ACTION_REC: dict[str, tuple[Any, ...]] = {}
# What it reads of the resource alone (not "*"): (account, ":role/" in it, ":key/" in it, a
# service-linked role's ARN).
_RESOURCE_REC: dict[str, tuple[Any, ...]] = {}


def _action_rec(act: str) -> tuple[Any, ...]:
    cat = default_catalog()
    trust, kms, rcp_service, known = _ACTION_FACTS.get(act) or _facts_of_action(act)
    info = cat.lookup(act)
    if info is None:
        # what ActionCatalog.check says of an action it does not know
        rec = (0, None, act, "", frozenset(), trust, kms, rcp_service, known, cat.check(act, "*")[1])
    elif not info.resource_types:
        rec = (1, info, info.name, "", frozenset(), trust, kms, rcp_service, known,
               cat.check(act, "arn:aws:iam::000000000000:root")[1])
    else:
        rec = (2, info, info.name, act.partition(":")[0], frozenset(rt.name for rt in info.resource_types),
               trust, kms, rcp_service, known, None)
    if len(_ACTION_REC) > 100_000:
        _ACTION_REC.clear()
    _ACTION_REC[act] = rec
    return rec


def _facts_of_action(act: str) -> tuple[bool, bool, bool, bool]:
    service = act.partition(":")[0]
    if len(_ACTION_FACTS) > 100_000:
        _ACTION_FACTS.clear()
    hit = _ACTION_FACTS[act] = (act in _TRUST_ACTIONS, service == "kms", service in RCP_SERVICES, act in known_actions())
    return hit


def _resource_rec(resource: str) -> tuple[Any, ...]:
    rec = (_arn_account(resource), ":role/" in resource, ":key/" in resource, _service_linked_arn(resource))
    if len(_RESOURCE_REC) > 200_000:
        _RESOURCE_REC.clear()
    _RESOURCE_REC[resource] = rec
    return rec


def _default_facts(act: str, resource: str) -> tuple[Any, ...]:
    """:func:`_facts` with the default catalogue, from what the action alone and the resource alone
    decide (each cached): a new (action, resource) pair costs a few lookups, not a classification.
    ``tests/test_policy_eval.py`` holds the two to the same answers."""
    kind, info, name, prefix, wanted, trust, kms, rcp_service, known, note = _ACTION_REC.get(act) or _action_rec(act)
    if resource == "*":
        if kind == 0:
            return None, note, resource, act, _CALLER, False, rcp_service, known
        return True, None, resource, name, _CALLER, False, rcp_service, known
    account, role, key, slr = _RESOURCE_REC.get(resource) or _resource_rec(resource)
    if kind == 1:  # evaluated against "*"
        return True, note, "*", name, account, False, rcp_service, known
    required = (trust and role) or (kms and key)
    rcp = rcp_service and not slr
    if kind == 0:
        return None, note, resource, act, account, required, rcp, known
    cat = default_catalog()
    found = cat.classify(prefix, resource)
    if found and not wanted.isdisjoint(found):
        return True, None, resource, name, account, required, rcp, known
    applies, note = cat._classified_applies(act, info, resource)  # the catalogue says why not
    return applies, note, resource, name, account, required, rcp, known


@functools.lru_cache(maxsize=4096)
def _level_name(kind: str, i: int, label: str | None) -> str:
    return f"{kind} level {i}" + (f" ({label})" if label else "")


def _explicit(layer: _Layer, st: Statement) -> Result:
    return _explicit_result(layer.title, st)


def _explicit_result(title: Any, st: Statement) -> Result:
    return _tuple_new(Result, (_DENIED, "explicit", (), _Lazy(_explicit_lines, (title, st))))


def _explicit_lines(title: Any, st: Statement) -> tuple[str, ...]:
    layer = _Layer(title)
    name = layer.name if title.__class__ is str or title[0] != "boundary" else "permission boundary"
    return (f"{name}: explicit deny by {st.label}",)


def _value_text(layer: _Layer, what: str) -> str:
    if layer.allow is True:
        return f"{layer.name}: allowed by {layer.allow_st.label}"  # type: ignore[union-attr]
    if layer.allow is False:
        return f"{layer.name}: {what}"
    return f"{layer.name}: allowed by {layer.allow_st.label} only if its conditions hold"  # type: ignore[union-attr]


def evaluate(
    request: Request,
    *,
    identity_policies: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    permission_boundaries: Sequence[Policy] = (),
    session_policy: Policy | None = None,
    scps: Sequence[Any] = (),
    rcps: Sequence[Any] = (),
    vpc_endpoint_policy: Policy | None = None,
    principal_is_management_account: bool = False,
    resource_in_management_account: bool = False,
    principal_is_service_linked_role: bool = False,
    resource_policy_required: bool | None = None,
    catalog: ActionCatalog | None = None,
) -> Result:
    """Decide ``request`` against the given policies (see the module docs for the rules).

    ``scps`` / ``rcps``: one entry per level, root first; an entry is a sequence of policies
    (or a :class:`PolicyLevel` with a label). Empty ``scps`` = not in an organization.
    ``resource_policy_required``: ``None`` infers it (role trust policies for
    ``sts:AssumeRole*`` and the ``sts:TagSession`` / ``sts:SetSourceIdentity`` / ``sts:SetContext``
    that accompany it, on a role ARN; KMS key policies for ``kms:*`` on a key ARN).
    """
    act = request._action_l
    if catalog is None:
        per_action = _FACTS.get(act)
        facts = per_action.get(request.resource) if per_action is not None else None
        if facts is None:
            facts = _cached_facts(act, request.resource)
    else:
        facts = _facts(catalog, act, request.resource)
    applies, note, resource, info_action, arn_acc, required_default, rcp_service, known = facts
    if applies is False:
        return _tuple_new(Result, (_DENIED, "implicit", (), (note,)))
    info = request._info or request.info()
    p_acc = request.principal_account or info.account
    r_acc = request.resource_account or (p_acc if arn_acc is _CALLER else arn_acc)
    required = required_default if resource_policy_required is None else resource_policy_required
    if (
        resource_policy is None
        and not rcps
        and vpc_endpoint_policy is None
        and r_acc is not None
        and info.is_iam
        and info.kind != "root"
    ):
        # No resource-side policy: all a certain answer needs is the principal's side.
        cross = bool(p_acc) and r_acc != p_acc
        if not scps and not permission_boundaries and session_policy is None and not cross and not required:
            ident = _lean_scan(identity_policies, act, resource, request, known)
            if ident is not _UNKNOWN:
                return _identity_result(ident, info_action, note)
        else:
            fast = _lean(
                request, identity_policies, permission_boundaries, session_policy, scps, act, resource,
                info_action, note, info, known, p_acc, r_acc, "cross" if cross else "required" if required else "same",
                principal_is_management_account, principal_is_service_linked_role,
            )
            if fast is not None:
                return fast
    slr = principal_is_service_linked_role or info.service_linked
    scp_applies = bool(scps) and info.is_iam and not principal_is_management_account and not slr

    # ---- explicit denies, layer by layer (stop at the first certain one) --------------------
    scp_layers: list[tuple[_Layer, str | None, int]] = []
    if scp_applies:
        for i, lvl in enumerate(scps, 1):
            label, pols = _level(lvl)
            layer = _Layer(("scp", i, label))
            if _scan(layer, pols, act, resource, request, known):
                return _explicit(layer, layer.deny_st)  # type: ignore[arg-type]
            scp_layers.append((layer, label, len(pols)))

    rcp_layers: list[tuple[_Layer, str | None, int]] = []
    rcp_applies = False
    if rcps:
        rcp_applies = (
            not resource_in_management_account
            and info.kind != "service"
            and not slr
            and rcp_service
        )
        if rcp_applies:
            for i, lvl in enumerate(rcps, 1):
                label, pols = _level(lvl)
                rlayer = _ResourceLayer(("rcp", i, label))
                if _scan_principal(rlayer, pols, act, resource, request, info, known):
                    return _explicit(rlayer, rlayer.deny_st)  # type: ignore[arg-type]
                rcp_layers.append((rlayer, label, len(pols)))

    vpce: _ResourceLayer | None = None
    if vpc_endpoint_policy is not None:
        vpce = _ResourceLayer("vpc endpoint policy")
        if _scan_principal(vpce, (vpc_endpoint_policy,), act, resource, request, info, known):
            return _explicit(vpce, vpce.deny_st)  # type: ignore[arg-type]

    res: _ResourceLayer | None = None
    if resource_policy is not None:
        res = _ResourceLayer("resource policy")
        if _scan_principal(res, (resource_policy,), act, resource, request, info, known):
            return _explicit(res, res.deny_st)  # type: ignore[arg-type]

    ident = _Layer("identity")
    bounds: list[_Layer] = []
    sess: _Layer | None = None
    if info.is_iam:
        if info.kind == "root":
            ident.allow = True
        else:
            if _scan(ident, identity_policies, act, resource, request, known):
                return _explicit(ident, ident.deny_st)  # type: ignore[arg-type]
            for pb in permission_boundaries:
                layer = _Layer(("boundary", 0, pb.source))
                if _scan(layer, (pb,), act, resource, request, known):
                    return _explicit(layer, layer.deny_st)  # type: ignore[arg-type]
                bounds.append(layer)
            if session_policy is not None:
                sess = _Layer("session policy")
                if _scan(sess, (session_policy,), act, resource, request, known):
                    return _explicit(sess, sess.deny_st)  # type: ignore[arg-type]

    # ---- combine ---------------------------------------------------------------------------
    deny: Any = False
    for layer, _l, _n in scp_layers:
        if layer.deny is not False:
            deny = _or(deny, layer.deny)
    for layer, _l, _n in rcp_layers:
        if layer.deny is not False:
            deny = _or(deny, layer.deny)
    for opt in (vpce, res, ident, sess, *bounds):
        if opt is not None and opt.deny is not False:
            deny = _or(deny, opt.deny)

    limits: Any = True  # boundaries and session policy
    for b in bounds:
        limits = _and(limits, b.allow)
    if sess is not None:
        limits = _and(limits, sess.allow)
    ids = _and(ident.allow, limits)

    cross = bool(p_acc and r_acc and p_acc != r_acc)
    self_assume = act == "sts:assumerole" and info.role_key is not None and _role_key(resource) == info.role_key
    if res is not None:
        r_unl, r_role, r_acct = res.by_strength[UNLIMITED], res.by_strength[ROLE], res.by_strength[ACCOUNT]
    else:
        r_unl = r_role = r_acct = False

    if not info.is_iam:
        grant = r_unl
        mode = "principal"
    elif cross:
        grant = _and(_or(_or(r_unl, r_role), r_acct), ids)
        mode = "cross"
    elif required:
        grant = _or(r_unl, _and(r_role, limits))
        if not self_assume:
            grant = _or(grant, _and(r_acct, ids))
        mode = "required"
    else:
        grant = _or(ids, _or(r_unl, _and(r_role, limits)))
        mode = "same"

    org: Any = True
    for layer, _l, _n in scp_layers:
        org = _and(org, layer.allow)
    for layer, _l, _n in rcp_layers:
        org = _and(org, layer.allow)
    if vpce is not None:
        org = _and(org, vpce.allow)

    final = _and(_and(grant, org), True if deny is False else deny)

    if final is True:
        decision, denial, terms = _ALLOWED, None, ()
    elif final is False:
        decision, denial, terms = _DENIED, "implicit", ()
    else:
        decision, denial, terms = _CONDITIONAL, None, tuple(dict.fromkeys(final))

    explanation = _Lazy(_explain, (
        decision, info, info_action, mode, cross, p_acc, r_acc, self_assume, required,
        ident, bounds, sess, res, scp_layers, rcp_layers, vpce, deny, scps, scp_applies, rcps, rcp_applies,
        principal_is_management_account, slr, note,
    ))
    return _tuple_new(Result, (decision, denial, terms, explanation))


_ACCOUNT_CACHE: dict[str, str | None] = {}


def _arn_account(resource: str) -> str | None:
    hit = _ACCOUNT_CACHE.get(resource, "")
    if hit == "":
        arn = parse_arn(resource)
        hit = (arn.account or None) if arn else None
        if len(_ACCOUNT_CACHE) > 200_000:
            _ACCOUNT_CACHE.clear()
        _ACCOUNT_CACHE[resource] = hit
    return hit


def _role_key(resource: str) -> tuple[str, str] | None:
    arn = parse_arn(resource)
    if arn is None or arn.service != "iam" or not arn.resource.startswith("role/"):
        return None
    return (arn.account, arn.resource.rsplit("/", 1)[-1].lower())


def _explain(
    decision: Decision,
    info: PrincipalInfo,
    action: str,
    mode: str,
    cross: bool,
    p_acc: str | None,
    r_acc: str | None,
    self_assume: bool,
    required: bool,
    ident: _Layer,
    bounds: list[_Layer],
    sess: _Layer | None,
    res: _ResourceLayer | None,
    scp_layers: list[tuple[_Layer, str | None, int]],
    rcp_layers: list[tuple[_Layer, str | None, int]],
    vpce: _ResourceLayer | None,
    deny: Any,
    scps: Sequence[Any],
    scp_applies: bool,
    rcps: Sequence[Any],
    rcp_applies: bool,
    mgmt: bool,
    slr: bool,
    note: str | None,
) -> tuple[str, ...]:
    lines: list[str] = []
    allowed = decision is Decision.ALLOWED
    missing = f"no statement allows {action}"

    if mode == "principal":
        lines.append(f"identity: not applicable to {info.kind} principal {info.arn or 'anonymous'}")
    elif info.kind == "root":
        lines.append("identity: the account root user has every permission in its own account")
    else:
        lines.append(_value_text(ident, missing))
    for b in bounds:
        if b.allow is not True or allowed:
            lines.append(_value_text(b, "missing allow"))
    if sess is not None:
        lines.append(_value_text(sess, "missing allow"))

    if res is not None:
        if res.allow is False:
            lines.append(f"resource policy: no statement allows {action} for {info.arn or 'anonymous'}")
        else:
            strength = next(s for s in (UNLIMITED, ROLE, ACCOUNT) if res.by_strength[s] is not False)
            how = {
                UNLIMITED: "names the principal directly",
                ROLE: "names the role ARN: boundaries and session policies still limit it",
                ACCOUNT: "names the account: delegates to its IAM policies",
            }[strength]
            cond = "" if res.by_strength[strength] is True else " only if its conditions hold"
            lines.append(f"resource policy: allowed by {res.st_by_strength[strength].label}{cond} ({how})")  # type: ignore[union-attr]
    if mode == "cross":
        lines.append(
            f"cross-account request (principal account {p_acc}, resource account {r_acc}): "
            "the identity side and the resource policy must both allow"
        )
        if res is None:
            lines.append("resource policy: none given (implicit deny)")
    elif mode == "required":
        kind = "trust policy" if action.lower().startswith("sts:") else "key policy"
        if res is None:
            lines.append(f"resource policy: no {kind} given, and {action} requires the {kind} to allow (implicit deny)")
        else:
            lines.append(f"the {kind} must allow {action} even in the same account")
        if self_assume:
            lines.append("a role may assume itself only when its trust policy names the role explicitly")
    elif mode == "principal" and res is None:
        lines.append(f"resource policy: none given; a {info.kind} principal needs one to be granted access")

    if scps and not scp_applies:
        why = (
            "management account"
            if mgmt
            else "service-linked role"
            if slr
            else f"{info.kind} principal"
        )
        lines.append(f"scp: not applied ({why})")
    for layer, _label, n in scp_layers:
        if n == 0:
            lines.append(f"{layer.name}: no policies attached (implicit deny)")
        elif layer.allow is False:
            lines.append(f"{layer.name}: {missing} (implicit deny)")
        elif allowed or layer.allow is not True:
            lines.append(_value_text(layer, missing))
    if rcps and not rcp_applies:
        lines.append("rcp: not applied (exempt principal, management account or unsupported service)")
    for layer, _label, n in rcp_layers:
        if n == 0:
            lines.append(f"{layer.name}: no policies attached (implicit deny)")
        elif layer.allow is False:
            lines.append(f"{layer.name}: {missing} (implicit deny)")
        elif allowed or layer.allow is not True:
            lines.append(_value_text(layer, missing))
    if vpce is not None:
        lines.append(_value_text(vpce, f"{missing} (implicit deny)"))
    if deny is not False:
        for layer in (vpce, res, ident, sess, *bounds, *(lyr for lyr, _a, _b in scp_layers + rcp_layers)):
            if layer is not None and layer.deny is not False:
                lines.append(f"{layer.name}: explicit deny by {layer.deny_st.label} unless its conditions are false")  # type: ignore[union-attr]
    if decision is Decision.DENIED and not any("implicit deny" in ln or "no statement" in ln or "missing" in ln for ln in lines):
        lines.append(f"implicit deny: nothing grants {action}")
    if note:
        lines.append(note)
    if r_acc is None and info.is_iam:
        lines.append("resource account unknown: treated as the principal's account")
    return tuple(lines)
