"""Candidate generation for the graph builder: which (actor, resource) pairs are worth asking
the policy engine about.

The engine decides every edge; this module only prunes, and must never prune a pair the engine
could allow. It reads the *Allow* statements of an actor's identity policies (``Action`` /
``NotAction`` patterns, ``Resource`` / ``NotResource`` patterns) and indexes resource-based
policies by the principals they name, so the builder never loops over every
principal × resource pair: it asks only for resources an Allow statement's pattern can reach
(same account) or whose resource policy names the actor, its account or ``*`` (any account).

Examples
--------
>>> doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::phi-*/*"}]}
>>> ap = AllowPatterns.from_documents([doc])
>>> ap.may_allow("s3:GetObject")
True
>>> ap.resource_patterns("s3:GetObject")
['arn:aws:s3:::phi-*/*']
>>> ap.may_allow("s3:PutObject")
False
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from iamreach.graph.policy import match_wildcard

__all__ = ["AllowPatterns", "Grantees", "ResourceSensitivity", "match_signature", "principal_keys_of_policy", "project_tags",
           "resource_tag_keys", "ANY_RESOURCE"]

#: returned by :meth:`AllowPatterns.resource_patterns` when a NotResource (or a policy variable)
#: makes the reachable resources impossible to enumerate by pattern: every resource is a candidate.
ANY_RESOURCE = "*"


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


class _Acts:
    """A statement's Action (or NotAction) patterns as written, with its per-action answers: one
    object per list content (see :func:`_fields`), so the same Action list recurring across
    documents is matched against each action once."""

    __slots__ = ("patterns", "answers")

    def __init__(self, patterns: tuple[str, ...]):
        self.patterns = patterns
        self.answers: dict[str, bool] = {}


_ACTS: dict[tuple[str, ...], _Acts] = {}


def _fields(st: dict) -> tuple[_Acts, bool, list[str], bool]:
    """(action patterns, is NotAction, resource patterns, is NotResource) of a statement."""
    not_act = "NotAction" in st
    patterns = tuple(str(a) for a in _as_list(st["NotAction"] if not_act else st.get("Action")))
    acts = _ACTS.get(patterns)
    if acts is None:
        if len(_ACTS) > 200_000:
            _ACTS.clear()  # objects already handed out keep working; new lists start afresh
        acts = _ACTS[patterns] = _Acts(patterns)
    not_res = "NotResource" in st
    res = [str(r) for r in _as_list(st["NotResource"] if not_res else st.get("Resource"))]
    return acts, not_act, res, not_res


def _acts_match(acts: _Acts, action: str) -> bool:
    """Does one of a statement's action patterns match ``action`` (case-insensitive)? Cached on
    the shared :class:`_Acts` object."""
    hit = acts.answers.get(action)
    if hit is None:
        hit = acts.answers[action] = any(match_wildcard(a, action, case_sensitive=False) for a in acts.patterns)
    return hit


class _DocAllows:
    """The Allow statements of one document, with per-action results cached (shared by every
    actor the document is attached to when the builder passes one cache)."""

    __slots__ = ("doc", "stmts", "cache")

    def __init__(self, doc: dict):
        self.doc = doc  # keeps id(doc) unique while cached
        self.cache: dict[str, list[str] | None] = {}
        self.stmts = []
        for st in _as_list(doc.get("Statement")):
            if isinstance(st, dict) and st.get("Effect") == "Allow":
                self.stmts.append(_fields(st))

    def patterns(self, action: str) -> list[str] | None:
        try:
            return self.cache[action]
        except KeyError:
            pass
        out: list[str] | None = None
        for acts, not_act, res, not_res in self.stmts:
            if _acts_match(acts, action) == not_act:
                continue
            out = out or []
            if not_res or any("${" in r for r in res):
                out.append(ANY_RESOURCE)
            else:
                out.extend(res)
        self.cache[action] = out
        return out


class AllowPatterns:
    """The Allow statements of a set of identity policy documents, for pruning only."""

    __slots__ = ("_docs", "_cache")

    def __init__(self, docs: list[_DocAllows]):
        self._docs = docs
        self._cache: dict[str, list[str] | None] = {}

    @classmethod
    def from_documents(cls, docs: Iterable[dict], cache: dict | None = None) -> AllowPatterns:
        """``cache``: a dict the caller keeps for one build, so that documents attached to many
        principals are matched against each action once."""
        out = []
        for doc in docs:
            if not isinstance(doc, dict):
                continue
            if cache is None:
                out.append(_DocAllows(doc))
                continue
            entry = cache.get(id(doc))
            if entry is None or entry.doc is not doc:
                entry = cache[id(doc)] = _DocAllows(doc)
            out.append(entry)
        return cls(out)

    def _patterns(self, action: str) -> list[str] | None:
        try:
            return self._cache[action]
        except KeyError:
            pass
        out: list[str] | None = None
        for d in self._docs:
            got = d.patterns(action)
            if got is not None:
                out = (out or []) + got
        if out is not None:
            out = sorted(set(out))
            if ANY_RESOURCE in out:
                out = [ANY_RESOURCE]
        self._cache[action] = out
        return out

    def may_allow(self, action: str) -> bool:
        """Could any Allow statement match ``action`` (ignoring resources and conditions)?"""
        return self._patterns(action) is not None

    def resource_patterns(self, action: str) -> list[str]:
        """Resource patterns of the Allow statements that match ``action`` (``['*']`` = any)."""
        return self._patterns(action) or []


def principal_keys_of_policy(doc: dict | None) -> set[str]:
    """The principal keys a resource-based policy's *Allow* statements name (a Deny grants nothing).

    Keys: a principal ARN, ``account:<id>`` for account ids / root ARNs, ``*`` for everyone,
    ``service:<name>`` for service principals, ``federated:<name>``. ``NotPrincipal`` counts as
    ``*`` (it names everyone but a few).

    >>> sorted(principal_keys_of_policy({"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:role/r"]}}]}))
    ['account:111122223333', 'account:444455556666', 'arn:aws:iam::444455556666:role/r']
    """
    keys: set[str] = set()
    if not isinstance(doc, dict):
        return keys
    for st in _as_list(doc.get("Statement")):
        if isinstance(st, dict) and st.get("Effect") == "Allow":
            _add_principal_keys(st, keys)
    return keys


def _add_principal_keys(st: dict, keys: set[str]) -> None:
    """Add the principal keys one Allow statement names to ``keys``."""
    if "NotPrincipal" in st:
        keys.add("*")
        return
    pr = st.get("Principal")
    if pr == "*":
        keys.add("*")
        return
    if not isinstance(pr, dict):
        return
    for kind, vals in pr.items():
        for v in _as_list(vals):
            v = str(v)
            if kind == "AWS":
                if v == "*":
                    keys.add("*")
                elif v.isdigit() and len(v) == 12:
                    keys.add(f"account:{v}")
                elif v.startswith("arn:") and v.endswith(":root"):
                    keys.add(f"account:{v.split(':')[4]}")
                else:
                    keys.add(v)
                    parts = v.split(":")
                    if len(parts) > 4 and parts[4]:
                        keys.add(f"account:{parts[4]}")
            elif kind == "Service":
                keys.add(f"service:{v}")
            elif kind == "Federated":
                keys.add(f"federated:{v}")
            elif kind == "CanonicalUser":
                keys.add(f"canonical:{v}")


#: key prefixes that name no IAM user or role directly (an account only delegates to IAM)
_INDIRECT = ("account:", "service:", "federated:", "canonical:")


class Grantees:
    """Who a resource-based policy's Allow statements for one action could let in, per action.
    Pruning only: :meth:`may_admit` errs towards True.

    A statement whose conditions pin the caller's account (``StringEquals`` on
    ``aws:PrincipalAccount``, or on ``kms:CallerAccount`` for a ``kms:`` action, with literal
    values) admits only callers of those accounts: the builder's requests always fix both keys to
    the actor's own account (the engine derives them), so for any other caller the condition is
    false. A key policy's usual "via service" statement (``Principal: *``,
    ``kms:CallerAccount: <its own account>``) thus admits no other account's principal.

    >>> g = Grantees()
    >>> doc = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject"},
    ...                      {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket"}]}
    >>> g.may_admit(doc, "s3:GetObject", "111122223333", direct=True), g.may_admit(doc, "s3:GetObject", "444455556666")
    (False, False)
    >>> g.may_admit(doc, "s3:GetObject", "111122223333"), g.may_admit(doc, "s3:ListBucket", "444455556666", direct=True)
    (True, True)
    >>> key = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
    ...                       "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}]}
    >>> g.may_admit(key, "kms:Decrypt", "111122223333", direct=True), g.may_admit(key, "kms:Decrypt", "444455556666")
    (True, False)
    """

    __slots__ = ("_keep", "_cache")

    def __init__(self):
        self._keep: list = []  # keep documents alive so id() stays unique
        self._cache: dict[int, dict[str, tuple[bool, frozenset, frozenset]]] = {}

    def _keys(self, doc: dict, action: str) -> tuple[bool, frozenset, frozenset]:
        """(does an Allow statement matching ``action`` name any principal directly — ``*``,
        ``NotPrincipal`` or any ARN — with no condition pinning the caller's account, the
        accounts such statements admit when a condition pins it, the accounts the statements
        name)."""
        per_action = self._cache.get(id(doc))
        if per_action is None:
            per_action = self._cache[id(doc)] = {}
            self._keep.append(doc)
        hit = per_action.get(action)
        if hit is None:
            anyone = False
            pinned: set[str] = set()
            accounts: set[str] = set()
            for st in _as_list(doc.get("Statement")):
                if not isinstance(st, dict) or st.get("Effect") != "Allow":
                    continue
                acts, not_act, _res, _not_res = _fields(st)
                if _acts_match(acts, action) == not_act:
                    continue
                keys: set[str] = set()
                _add_principal_keys(st, keys)
                only = caller_accounts(st.get("Condition"), action)
                for k in keys:
                    if k.startswith("account:"):
                        if only is None or k[8:] in only:
                            accounts.add(k[8:])
                    elif not k.startswith(_INDIRECT):
                        if only is None:
                            anyone = True
                        else:
                            pinned |= only
            hit = per_action[action] = (anyone, frozenset(pinned), frozenset(accounts))
        return hit

    def may_admit(self, doc: dict, action: str, account: str, direct: bool = False) -> bool:
        """Could ``doc`` (a resource-based policy) allow ``action`` to a principal of ``account``:
        by naming a principal directly, or — when ``direct`` is False, the caller's own identity
        policies being able to allow the action too — by naming its account?"""
        anyone, pinned, accounts = self._keys(doc, action)
        return anyone or account in pinned or (not direct and account in accounts)


_CALLER_ACCOUNT_KEYS = ("aws:principalaccount", "kms:calleraccount")


def caller_accounts(condition, action: str) -> frozenset[str] | None:
    """The accounts a statement's ``Condition`` block restricts the caller to, or None (no such
    restriction found): the literal values of a ``StringEquals`` on ``aws:PrincipalAccount``, or on
    ``kms:CallerAccount`` when ``action`` is a ``kms:`` one (the only requests that carry it). Errs
    towards None: another operator, a policy variable or a value that is not a string counts as no
    restriction. Several such keys in one statement are all required (conditions are ANDed).

    >>> caller_accounts({"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "s3"}}, "kms:Decrypt")
    frozenset({'111122223333'})
    >>> caller_accounts({"StringEquals": {"kms:CallerAccount": "111122223333"}}, "s3:GetObject") is None
    True
    >>> caller_accounts({"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}, "s3:GetObject") is None
    True
    """
    if not isinstance(condition, dict):
        return None
    block = condition.get("StringEquals")
    if not isinstance(block, dict):
        return None
    kms = action.lower().startswith("kms:")
    out: frozenset[str] | None = None
    for key, values in block.items():
        k = str(key).lower()
        if k not in _CALLER_ACCOUNT_KEYS or (k == "kms:calleraccount" and not kms):
            continue
        vals = _as_list(values)
        if not vals or not all(isinstance(v, str) and "$" not in v for v in vals):
            continue
        these = frozenset(vals)
        out = these if out is None else out & these
    return out


class ResourcePolicyIndex:
    """Resources indexed by (principal key, resource kind) from their resource-based policies."""

    def __init__(self):
        self._by_key: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._grouped: dict[tuple[str, str], dict[str, frozenset[str]]] = {}

    def add(self, resource_id: str, kind: str, doc: dict | None = None, keys: Iterable[str] = ()) -> None:
        """Index ``resource_id`` under the principals ``doc`` names, plus any explicit ``keys``."""
        self._grouped.clear()
        for key in {*principal_keys_of_policy(doc), *keys}:
            self._by_key[(key, kind)].add(resource_id)

    def lookup(self, keys: Iterable[str], kind: str) -> set[str]:
        out: set[str] = set()
        for k in keys:
            hit = self._by_key.get((k, kind))
            if hit:
                out |= hit
        return out

    def by_account(self, key: str, kind: str, account_of: Callable[[str], str]) -> dict[str, frozenset[str]]:
        """The resources of ``kind`` indexed under ``key``, grouped by their account
        (``account_of``), cached: the resources every principal sees (``"*"``) are grouped once."""
        hit = self._grouped.get((key, kind))
        if hit is None:
            groups: dict[str, set[str]] = defaultdict(set)
            for arn in self._by_key.get((key, kind), ()):
                groups[account_of(arn)].add(arn)
            hit = self._grouped[(key, kind)] = {a: frozenset(v) for a, v in groups.items()}
        return hit


_MISSING = object()
_TAG_KEY = re.compile(r"aws:resourcetag/([^\"\s,}]*)", re.I)


def resource_tag_keys(value) -> frozenset | None:
    """Lower-cased tag keys a Condition block (or a whole policy) reads through
    ``aws:ResourceTag/<key>`` (in a key or a ``${...}`` value); None when a key is itself built
    from a variable."""
    if not value:
        return frozenset()
    text = json.dumps(value)
    keys = set()
    for m in _TAG_KEY.finditer(text):
        k = m.group(1)
        if "${" in k or not k:
            return None
        keys.add(k.lower())
    return frozenset(keys)


class ResourceSensitivity:
    """Does a set of policies decide an action the same way for every resource of an account?

    True when every statement (Allow or Deny, in any of the documents) whose action matches has
    ``Resource: "*"`` (no ``NotResource``, no policy variable). Then, for resources without a
    resource-based policy and without any tag a policy conditions on (the builder's "plain"
    resources, for which every such condition sees the same absent key), one engine evaluation
    stands for all of them. Pruning of work only: the engine still decides.

    >>> rs = ResourceSensitivity()
    >>> star = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    >>> scoped = {"Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}
    >>> rs.relevant([star], "s3:GetObject"), rs.relevant([star, scoped], "s3:GetObject")
    ([], [(('arn:aws:s3:::x/*',), False)])
    """

    def __init__(self):
        self._compiled: dict[int, list] = {}
        self._keep: list = []  # keep documents alive so id() stays unique
        self._relevant: dict[tuple, dict[str, list | None]] = {}
        self._tags: dict[tuple, dict[str, frozenset | None]] = {}
        self._per_doc: dict[tuple, list | None] = {}

    def clear(self) -> None:
        """Drop every cached answer (they are rebuilt on demand)."""
        for cache in (self._compiled, self._keep, self._relevant, self._tags, self._per_doc):
            cache.clear()

    def _compile(self, doc) -> list:
        key = id(doc)
        got = self._compiled.get(key)
        if got is not None:
            return got
        out = []
        if isinstance(doc, dict):
            for st in _as_list(doc.get("Statement")):
                if not isinstance(st, dict):
                    continue
                acts, not_act, res, not_res = _fields(st)
                star = not not_res and res == ["*"]
                out.append((acts, not_act, star, res, not_res, resource_tag_keys(st.get("Condition"))))
        self._compiled[key] = out
        self._keep.append(doc)
        return out

    def relevant(self, docs: Iterable[dict], action: str) -> list | None:
        """The resource-specific statements of ``docs`` that match ``action``, as
        ``[(patterns, is_not_resource)]``; None when one uses a policy variable."""
        return self._relevant_for(tuple(docs), action)

    def _relevant_for(self, docs: tuple, action: str) -> list | None:
        """Resource-specific statements matching ``action``: [(patterns, is_not_resource)];
        None when one uses a policy variable (its match depends on the request)."""
        per_action = self._per_docs(self._relevant, docs)
        try:
            return per_action[action]
        except KeyError:
            pass
        out: list | None = []
        for doc in docs:
            got = self._doc_relevant(doc, action)
            if got is None:
                out = None
                break
            out.extend(got)
        per_action[action] = out
        return out

    def _per_docs(self, cache: dict, docs: tuple) -> dict:
        """The per-action entries of ``cache`` for the documents ``docs``, by identity (the
        documents are kept alive, so an id is never reused while cached)."""
        key = tuple(map(id, docs))
        per_action = cache.get(key)
        if per_action is None:
            per_action = cache[key] = {}
            self._keep.append(docs)
        return per_action

    def _doc_relevant(self, doc, action: str) -> list | None:
        key = (id(doc), action)
        try:
            return self._per_doc[key]
        except KeyError:
            pass
        out: list | None = []
        for acts, not_act, star, res, not_res, _tags in self._compile(doc):
            if star:
                continue
            if _acts_match(acts, action) == not_act:
                continue
            if any("${" in r for r in res):
                out = None
                break
            out.append((tuple(res), not_res))
        self._per_doc[key] = out
        return out

    def tag_keys(self, docs: tuple, action: str) -> frozenset | None:
        """Lower-cased tag keys whose ``aws:ResourceTag/<key>`` a statement matching ``action``
        reads in its conditions (any effect); None when a key is built from a policy variable
        (then every tag may matter).

        >>> rs = ResourceSensitivity()
        >>> d = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
        ...       "Condition": {"StringEquals": {"aws:ResourceTag/Team": "x"}}}]}
        >>> sorted(rs.tag_keys((d,), "s3:GetObject")), rs.tag_keys((d,), "ec2:StartInstances")
        (['team'], frozenset())
        """
        per_action = self._per_docs(self._tags, tuple(docs))
        hit = per_action.get(action, _MISSING)
        if hit is not _MISSING:
            return hit
        out: set[str] | None = set()
        for doc in docs:
            for acts, not_act, _star, _res, _not_res, tags in self._compile(doc):
                if not tags and tags is not None:
                    continue
                if _acts_match(acts, action) == not_act:
                    continue
                if tags is None:
                    out = None
                    break
                out |= tags
            if out is None:
                break
        hit = None if out is None else frozenset(out)
        per_action[action] = hit
        return hit


def match_signature(rel, resource: str) -> tuple[bool, ...]:
    """Which of the resource-specific statements ``rel`` (:meth:`ResourceSensitivity.relevant`:
    ``[(patterns, is_not_resource)]``) match ``resource``. Resources with equal signatures (and
    no resource policy or referenced tags) get equal decisions.

    >>> rs = ResourceSensitivity()
    >>> d = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a*/*"}]}
    >>> rel = rs.relevant([d], "s3:GetObject")
    >>> match_signature(rel, "arn:aws:s3:::ab/*") == match_signature(rel, "arn:aws:s3:::ac/*")
    True
    >>> match_signature(rel, "arn:aws:s3:::b/*")
    (False,)
    """
    return tuple(any(match_wildcard(p, resource) for p in pats) != neg for pats, neg in rel)


def project_tags(tags: dict, keys: frozenset | None) -> tuple:
    """The (key, value) pairs of ``tags`` whose lower-cased key is in ``keys`` (None: all of them)."""
    if keys is None:
        return tuple(sorted(tags.items()))
    if not keys or not tags:
        return ()
    return tuple(sorted((k, v) for k, v in tags.items() if k.lower() in keys))
