"""Reading a ``terraform show -json`` plan: validation, secret stripping, unknown values.

This module knows the plan JSON format (``format_version`` 0.1 and 1.x) and nothing about the
inventory. :func:`read_plan` parses and validates a plan, then :func:`strip_sensitive` removes
every value Terraform marks sensitive (``before_sensitive`` / ``after_sensitive`` /
``sensitive_values``), every input variable value and every output *before* anything else
reads the plan. :class:`Plan` then offers the resource changes as :class:`TfResource` views
whose unknown-until-apply attributes are explicit, and resolves an unknown attribute through
the configuration's ``references`` to the resource it came from.

Examples
--------
>>> plan = Plan.from_dict(strip_sensitive({
...     "format_version": "1.2",
...     "resource_changes": [{
...         "address": "aws_iam_role.r", "mode": "managed", "type": "aws_iam_role", "name": "r",
...         "change": {"actions": ["create"], "before": None,
...                    "after": {"name": "r", "password": "s3cret"},
...                    "after_unknown": {"arn": True}, "after_sensitive": {"password": True}}}]}))
>>> res = plan.changes[0].after
>>> res.get("name"), res.is_unknown("arn"), res.get("password")
('r', True, None)
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iamreach.errors import PlanError

__all__ = [
    "UNKNOWN_CONDITION_KEY",
    "SECRET_ATTRIBUTES",
    "TfResource",
    "TfChange",
    "Plan",
    "read_plan",
    "strip_sensitive",
    "unknown_document",
    "module_key",
    "document_from_statements",
]

#: Condition key no request ever carries: statements guarded by it are CONDITIONAL edges.
UNKNOWN_CONDITION_KEY = "iamreach:UnknownUntilApply"

_SUPPORTED_FORMATS = re.compile(r"^(0\.[12]|1\.\d+)$")
_REF = re.compile(r"^(?P<data>data\.)?(?P<type>[A-Za-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)"
                  r"(?P<index>\[[^\]]*\])?(?:\.(?P<attr>[A-Za-z0-9_]+))?")


def read_plan(data: bytes, *, source: str = "<plan>") -> dict:
    """Parse and validate plan JSON bytes; raise :class:`PlanError` naming the field."""
    try:
        plan = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PlanError(f"not valid JSON ({exc}); expected the output of `terraform show -json PLANFILE`",
                        file=source) from exc
    if not isinstance(plan, dict):
        raise PlanError("expected a JSON object (the output of `terraform show -json PLANFILE`)", file=source)
    version = plan.get("format_version")
    if not isinstance(version, str) or not _SUPPORTED_FORMATS.match(version):
        raise PlanError(f"format_version {version!r} is not supported; expected 0.1, 0.2 or 1.x "
                        "(the output of `terraform show -json PLANFILE`)", file=source, field="format_version")
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list):
        raise PlanError("expected a JSON array", file=source, field="resource_changes")
    for i, rc in enumerate(changes):
        where = f"resource_changes[{i}]"
        if not isinstance(rc, dict):
            raise PlanError("expected a JSON object", file=source, field=where)
        for key in ("address", "type"):
            if not isinstance(rc.get(key), str) or not rc.get(key):
                raise PlanError("expected a non-empty string", file=source, field=f"{where}.{key}")
        change = rc.get("change")
        if not isinstance(change, dict) or not isinstance(change.get("actions"), list):
            raise PlanError("expected an object with an 'actions' array", file=source, field=f"{where}.change")
        for side in ("before", "after"):
            if change.get(side) is not None and not isinstance(change[side], dict):
                raise PlanError("expected a JSON object or null", file=source, field=f"{where}.change.{side}")
    return plan


# -- secrets -------------------------------------------------------------------------------
#: Attributes that hold secrets whether or not the provider marks them sensitive.
SECRET_ATTRIBUTES = frozenset({
    "password", "master_password", "user_data", "user_data_base64", "secret_string", "secret_binary",
    "private_key", "secret_key", "access_key", "token", "auth_token", "password_data", "plaintext",
    "ses_smtp_password_v4", "encrypted_secret", "private_key_pem", "connection_properties",
})
#: Map attributes whose values (never their keys) are secrets: Lambda / Batch environment variables.
SECRET_MAPS = frozenset({"variables", "environment_variables"})


def _mask(value: Any, sensitive: Any, path: str, found: list[str]) -> Any:
    """``value`` with every leaf that ``sensitive`` marks true, and every secret attribute, replaced by None."""
    if sensitive is True:
        if value is not None:
            found.append(path or ".")
        return None
    if isinstance(value, dict):
        sens = sensitive if isinstance(sensitive, dict) else {}
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if k in SECRET_ATTRIBUTES and v not in (None, "", [], {}):
                found.append(sub)
                out[k] = None
            elif k in SECRET_MAPS and isinstance(v, dict):
                out[k] = {name: None for name in v}
            else:
                out[k] = _mask(v, sens.get(k), sub, found)
        return out
    if isinstance(value, list):
        sens = sensitive if isinstance(sensitive, list) else []
        return [_mask(v, sens[i] if i < len(sens) else None, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _strip_module(module: Any, sensitive_paths: list[dict]) -> None:
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if isinstance(res, dict) and isinstance(res.get("values"), dict):
            found: list[str] = []
            res["values"] = _mask(res["values"], res.get("sensitive_values"), "", found)
            sensitive_paths.extend({"address": str(res.get("address")), "path": p} for p in found)
    for child in module.get("child_modules") or []:
        _strip_module(child, sensitive_paths)


def _strip_config(node: Any, keep_constant: bool = False) -> Any:
    """The configuration with literal values removed (only references are kept)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "constant_value" and not keep_constant:
                continue
            out[k] = _strip_config(v, keep_constant or k == "region")
        return out
    if isinstance(node, list):
        return [_strip_config(v, keep_constant) for v in node]
    return node


def strip_sensitive(plan: dict) -> dict:
    """A copy of ``plan`` without any secret: run this before anything else reads a plan.

    Removes values marked sensitive (by path only, recorded in ``plan["_sensitive_paths"]``),
    all input ``variables`` values, outputs, ``resource_drift`` and every literal in the
    ``configuration`` block except the provider region.
    """
    out: dict[str, Any] = {}
    sensitive_paths: list[dict] = []
    for key, value in plan.items():
        if key in ("variables", "output_changes", "resource_drift", "relevant_attributes", "checks"):
            continue
        out[key] = value
    changes = []
    for rc in plan.get("resource_changes") or []:
        rc = dict(rc)
        change = dict(rc.get("change") or {})
        for side in ("before", "after"):
            found: list[str] = []
            if change.get(side) is not None:
                change[side] = _mask(change[side], change.get(f"{side}_sensitive"), "", found)
            sensitive_paths.extend({"address": rc["address"], "path": p} for p in found)
        rc["change"] = change
        changes.append(rc)
    out["resource_changes"] = changes
    for state_key in ("prior_state", "planned_values"):
        state = copy.deepcopy(plan.get(state_key))
        if not isinstance(state, dict):
            continue
        values = state.get("values") if state_key == "prior_state" else state
        if isinstance(values, dict):
            values.pop("outputs", None)
            _strip_module(values.get("root_module"), sensitive_paths)
        out[state_key] = state
    if isinstance(plan.get("configuration"), dict):
        out["configuration"] = _strip_config(plan["configuration"])
    uniq = {(p["address"], p["path"]): p for p in sensitive_paths}
    out["_sensitive_paths"] = [uniq[k] for k in sorted(uniq)]
    return out


# -- resources -----------------------------------------------------------------------------
@dataclass
class TfResource:
    """One side (before or after) of a resource instance in a plan.

    ``values`` holds the known values (secrets already removed); ``unknown`` is Terraform's
    ``after_unknown`` tree: ``True`` where a value is known only after apply.
    """

    address: str
    type: str
    name: str
    mode: str
    module: str | None
    index: Any
    values: dict[str, Any]
    unknown: Any = field(default_factory=dict)

    @property
    def config_address(self) -> str:
        """The address inside its module, without the instance index: ``aws_iam_role.x``."""
        prefix = "data." if self.mode == "data" else ""
        return f"{prefix}{self.type}.{self.name}"

    def is_unknown(self, key: str) -> bool:
        """Is attribute ``key`` (wholly) unknown until apply?"""
        return isinstance(self.unknown, dict) and self.unknown.get(key) is True

    def has_unknown(self, key: str) -> bool:
        """Is any part of attribute ``key`` unknown until apply?"""
        return isinstance(self.unknown, dict) and _any_true(self.unknown.get(key))

    def get(self, key: str, default: Any = None) -> Any:
        """The known value of ``key`` (``default`` when unknown, absent or null)."""
        if self.is_unknown(key):
            return default
        value = self.values.get(key)
        return default if value is None else value

    def block(self, key: str) -> dict[str, Any]:
        """The first element of a nested block list (``vpc_config``...), or ``{}``."""
        value = self.get(key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return value[0]
        return value if isinstance(value, dict) else {}


def _any_true(tree: Any) -> bool:
    if tree is True:
        return True
    if isinstance(tree, dict):
        return any(_any_true(v) for v in tree.values())
    if isinstance(tree, list):
        return any(_any_true(v) for v in tree)
    return False


@dataclass
class TfChange:
    """A planned change of one resource instance."""

    address: str
    type: str
    mode: str
    actions: tuple[str, ...]
    before: TfResource | None
    after: TfResource | None

    @property
    def action(self) -> str:
        """``create`` / ``update`` / ``delete`` / ``replace`` / ``no-op`` / ``read``."""
        acts = set(self.actions)
        if {"create", "delete"} <= acts:
            return "replace"
        return self.actions[0] if self.actions else "no-op"


def _module_of(address: str, rc: dict) -> str | None:
    module = rc.get("module_address")
    if isinstance(module, str) and module:
        return module
    parts = address.split(".")
    mods = []
    i = 0
    while i + 1 < len(parts) and parts[i] == "module":
        mods.append(f"module.{parts[i + 1]}")
        i += 2
    return ".".join(mods) or None


class Plan:
    """A stripped plan: its changes, prior data sources and configuration references."""

    def __init__(self, plan: dict):
        self.raw = plan
        self.format_version = str(plan.get("format_version"))
        self.terraform_version = plan.get("terraform_version")
        self.sensitive_paths: list[dict] = list(plan.get("_sensitive_paths", []))
        self.changes: list[TfChange] = [self._change(rc) for rc in plan.get("resource_changes") or []]
        self.by_address: dict[str, TfChange] = {c.address: c for c in self.changes}
        self.prior: dict[str, TfResource] = {}
        prior = (plan.get("prior_state") or {}).get("values") or {}
        for res in _walk_state(prior.get("root_module")):
            self.prior[res.address] = res
        self._config: dict[tuple[str | None, str], dict] = {}
        self.module_sources: dict[str | None, str] = {None: "."}
        root = (plan.get("configuration") or {}).get("root_module")
        self._index_config(root, None, ".")

    @classmethod
    def from_dict(cls, plan: dict) -> Plan:
        return cls(plan)

    @staticmethod
    def _change(rc: dict) -> TfChange:
        change = rc["change"]
        address = rc["address"]
        mode = rc.get("mode") or ("data" if address.startswith("data.") or ".data." in address else "managed")
        module = _module_of(address, rc)
        common = {"address": address, "type": rc["type"], "name": str(rc.get("name") or address.split(".")[-1]),
                  "mode": mode, "module": module, "index": rc.get("index")}
        before = TfResource(**common, values=change["before"], unknown={}) if change.get("before") is not None else None
        after = None
        if change.get("after") is not None and change["actions"] != ["delete"]:
            after = TfResource(**common, values=change["after"], unknown=change.get("after_unknown") or {})
        return TfChange(address, rc["type"], mode, tuple(change["actions"]), before, after)

    def _index_config(self, module: Any, prefix: str | None, source: str) -> None:
        if not isinstance(module, dict):
            return
        self.module_sources[prefix] = source
        for res in module.get("resources") or []:
            if isinstance(res, dict) and isinstance(res.get("address"), str):
                self._config[(prefix, res["address"])] = res
        for name, call in (module.get("module_calls") or {}).items():
            if not isinstance(call, dict):
                continue
            child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
            src = call.get("source") if isinstance(call.get("source"), str) else ""
            child_source = src if not src.startswith(".") else _join(source, src)
            self._index_config(call.get("module"), child, child_source)

    def config_of(self, res: TfResource) -> dict | None:
        """The configuration block of a resource (expressions carry references, no literals)."""
        return self._config.get((module_key(res.module), res.config_address))

    def is_configured(self, res: TfResource, key: str) -> bool:
        """Is ``key`` set in the resource's configuration (rather than computed by the provider)?"""
        conf = self.config_of(res)
        return bool(conf) and key in (conf.get("expressions") or {})

    def references(self, res: TfResource, key: str) -> list[str]:
        """Configuration references of attribute ``key`` (``aws_iam_role.x.arn`` ...)."""
        conf = self.config_of(res) or {}
        expr = (conf.get("expressions") or {}).get(key)
        if isinstance(expr, list):  # a nested block: references of its attributes
            refs: list[str] = []
            for item in expr:
                if isinstance(item, dict):
                    for sub in item.values():
                        if isinstance(sub, dict):
                            refs.extend(sub.get("references") or [])
            return refs
        return list(expr.get("references") or []) if isinstance(expr, dict) else []

    def referenced(self, res: TfResource, key: str) -> list[tuple[TfResource, str | None]]:
        """The resources (after the change) that attribute ``key`` is computed from, with the attribute."""
        out = []
        for ref in self.references(res, key):
            m = _REF.match(ref)
            if not m or m.group("type") in ("var", "local", "module", "each", "count", "path", "self"):
                continue
            base = f"{'data.' if m.group('data') else ''}{m.group('type')}.{m.group('name')}"
            full = f"{res.module}.{base}" if res.module else base
            target = self._instance(full, m.group("index"), res.index)
            if target is not None:
                out.append((target, m.group("attr")))
        return out

    def _instance(self, base: str, index: str | None, own_index: Any) -> TfResource | None:
        candidates = []
        if index:
            candidates.append(base + index)
        if own_index is not None:
            candidates.append(f"{base}[{json.dumps(own_index)}]")
        candidates.append(base)
        for addr in candidates:
            change = self.by_address.get(addr)
            if change is not None and change.after is not None:
                return change.after
            if addr in self.prior:
                return self.prior[addr]
        matches = [c.after for a, c in self.by_address.items() if a.startswith(base + "[") and c.after]
        return matches[0] if len(matches) == 1 else None

    def data_source(self, address: str) -> TfResource | None:
        change = self.by_address.get(address)
        if change is not None and change.after is not None:
            return change.after
        return self.prior.get(address)


def module_key(module: str | None) -> str | None:
    """A module instance path without its instance keys: ``module.a["x"].module.b[0]`` -> ``module.a.module.b``."""
    if not module:
        return None
    return re.sub(r"\[[^\]]*\]", "", module)


def _join(base: str, rel: str) -> str:
    parts = [p for p in f"{base}/{rel}".split("/") if p not in ("", ".")]
    out: list[str] = []
    for p in parts:
        if p == ".." and out and out[-1] != "..":
            out.pop()
        else:
            out.append(p)
    return "/".join(out) or "."


def _walk_state(module: Any) -> Iterator[TfResource]:
    if not isinstance(module, dict):
        return
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or not isinstance(res.get("address"), str):
            continue
        address = res["address"]
        yield TfResource(address=address, type=str(res.get("type")), name=str(res.get("name")),
                         mode=str(res.get("mode") or "managed"), module=_module_of(address, res),
                         index=res.get("index"), values=res.get("values") or {}, unknown={})
    for child in module.get("child_modules") or []:
        yield from _walk_state(child)


# -- policy documents known only after apply -------------------------------------------------
def unknown_document(*, principal: bool = False) -> dict:
    """The stand-in for a policy document unknown until apply: allow ``*`` on ``*``, conditionally.

    The condition key is never present in a request, so every edge it makes is CONDITIONAL.
    """
    stmt: dict[str, Any] = {
        "Sid": "IamreachUnknownUntilApply",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {UNKNOWN_CONDITION_KEY: "true"}},
    }
    if principal:
        stmt["Principal"] = {"AWS": "*"}
    return {"Version": "2012-10-17", "Statement": [stmt]}


def _known_list(values: Any, unknown: Any) -> tuple[list[str] | None, bool]:
    """Known elements of a list attribute with ``*`` for the unknown ones; and whether any was unknown."""
    if unknown is True:
        return ["*"], True
    if values is None:
        return None, False
    out, any_unknown = [], False
    unk = unknown if isinstance(unknown, list) else []
    for i, v in enumerate(values):
        if (i < len(unk) and unk[i] is True) or v is None:
            out.append("*")
            any_unknown = True
        else:
            out.append(str(v))
    return out, any_unknown


def document_from_statements(values: dict, unknown: Any) -> dict | None:
    """Render an ``aws_iam_policy_document`` whose ``json`` is unknown from its ``statement`` blocks.

    Unknown elements become ``*`` and the statement gets the :data:`UNKNOWN_CONDITION_KEY`
    condition. Returns None when the document cannot be rendered this way (source/override
    documents, unknown statement list).
    """
    unknown = unknown if isinstance(unknown, dict) else {}
    for key in ("source_json", "override_json", "source_policy_documents", "override_policy_documents"):
        if values.get(key) or unknown.get(key) is True:
            return None
    stmts = values.get("statement")
    unk_stmts = unknown.get("statement")
    if not isinstance(stmts, list) or unk_stmts is True:
        return None
    out = []
    for i, st in enumerate(stmts):
        if not isinstance(st, dict):
            return None
        unk = unk_stmts[i] if isinstance(unk_stmts, list) and i < len(unk_stmts) else {}
        unk = unk if isinstance(unk, dict) else {}
        rendered, uncertain = _render_statement(st, unk)
        if uncertain:
            rendered["Condition"] = {**rendered.get("Condition", {}),
                                     "Bool": {UNKNOWN_CONDITION_KEY: "true"}}
        out.append(rendered)
    return {"Version": values.get("version") or "2012-10-17", "Statement": out}


def _render_statement(st: dict, unk: dict) -> tuple[dict, bool]:
    uncertain = any(unk.get(k) is True for k in ("effect", "sid"))
    rendered: dict[str, Any] = {"Effect": st.get("effect") or "Allow"}
    if st.get("sid"):
        rendered["Sid"] = st["sid"]
    for src, dst in (("actions", "Action"), ("not_actions", "NotAction"),
                     ("resources", "Resource"), ("not_resources", "NotResource")):
        vals, u = _known_list(st.get(src), unk.get(src))
        uncertain |= u
        if vals:
            rendered[dst] = vals
    for src, dst in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        blocks = st.get(src) or []
        ublocks = unk.get(src) if isinstance(unk.get(src), list) else []
        if unk.get(src) is True:
            rendered[dst] = "*"
            uncertain = True
            continue
        principal: dict[str, list[str]] = {}
        for j, blk in enumerate(blocks):
            ub = ublocks[j] if j < len(ublocks) and isinstance(ublocks[j], dict) else {}
            ids, u = _known_list(blk.get("identifiers"), ub.get("identifiers"))
            uncertain |= u or ub.get("type") is True
            principal.setdefault(str(blk.get("type") or "AWS"), []).extend(ids or ["*"])
        if principal:
            rendered[dst] = "*" if list(principal) == ["*"] else principal
    conds = st.get("condition") or []
    ucond = unk.get("condition") if isinstance(unk.get("condition"), list) else []
    if unk.get("condition") is True:
        uncertain = True
    condition: dict[str, dict[str, list[str]]] = {}
    for j, c in enumerate(conds):
        uc = ucond[j] if j < len(ucond) and isinstance(ucond[j], dict) else {}
        vals, u = _known_list(c.get("values"), uc.get("values"))
        if u or uc.get("test") is True or uc.get("variable") is True:
            uncertain = True
            continue
        condition.setdefault(str(c.get("test")), {})[str(c.get("variable"))] = vals or []
    if condition:
        rendered["Condition"] = condition
    return rendered, uncertain
