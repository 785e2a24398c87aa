"""``iamreach simulate REQUEST.json``: evaluate requests against policies given inline.

No snapshot, no AWS: the request file carries the principal, action, resource, context and
every policy layer. See ``docs/cli.md`` (section "iamreach simulate") for the contract.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from iamreach.errors import IamreachError, InputError, PolicyError
from iamreach.fileio import read_input_bytes

__all__ = ["register", "run", "simulate_requests"]

_POLICY_LAYERS = {
    "resource_policy": "resource",
    "session_policy": "session",
    "vpc_endpoint_policy": "vpce",
}
_POLICY_LISTS = {"identity_policies": "identity", "permission_boundaries": "boundary"}
_LEVEL_LISTS = {"scps": "scp", "rcps": "rcp"}
_FLAGS = ("principal_is_management_account", "resource_in_management_account", "principal_is_service_linked_role")
_STRINGS = ("principal", "action", "resource")
_OPTIONAL_STRINGS = ("resource_account", "principal_account")
KNOWN_KEYS = frozenset(
    {
        *_STRINGS,
        *_OPTIONAL_STRINGS,
        "context",
        "known_keys",
        "resource_policy_required",
        *_POLICY_LAYERS,
        *_POLICY_LISTS,
        *_LEVEL_LISTS,
        *_FLAGS,
    }
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="evaluate IAM requests against inline policies (exact AWS evaluation logic)",
        description="Evaluate one request object, or a JSON array of them, against the policies they carry. "
        "Exit 0 when every request is allowed, 1 when any is denied or conditional, 2 on bad input.",
    )
    p.add_argument("request", metavar="REQUEST.json", help="request file (object or array); - reads stdin")
    p.add_argument("--format", choices=("json", "text"), default="json", help="output format (default json)")
    p.add_argument(
        "--unknown-keys",
        choices=("absent", "conditional"),
        default="absent",
        help="absent: a context key not given is absent (default); conditional: it is unknown, "
        "and answers that depend on it are 'conditional'",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    name = args.request
    try:
        raw = read_input_bytes(name)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError("expected UTF-8 JSON text", file=name) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON ({exc})", file=name) from None
    try:
        results = simulate_requests(data, unknown_keys="unknown" if args.unknown_keys == "conditional" else "absent")
    except IamreachError as exc:
        raise exc.with_file(name) from None
    if args.format == "json":
        payload = [r.to_dict() for r in results] if isinstance(data, list) else results[0].to_dict()
        print(json.dumps(payload, indent=2, sort_keys=True))
    else:
        print(_text(results, data))
    return 0 if all(r.decision.value == "allowed" for r in results) else 1


def simulate_requests(data: Any, *, unknown_keys: str = "absent") -> list[Any]:
    """Evaluate a request object or a list of them; raises IamreachError naming the field."""
    from iamreach.graph.policy import evaluate

    if isinstance(data, list):
        items = [(f"[{i}]", item) for i, item in enumerate(data)]
    elif isinstance(data, dict):
        items = [("", data)]
    else:
        raise InputError("expected a request object or a JSON array of request objects")
    out = []
    for prefix, item in items:
        request, kwargs = _build(item, prefix, unknown_keys)
        out.append(evaluate(request, **kwargs))
    return out


def _field(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _build(item: Any, prefix: str, unknown_keys: str) -> tuple[Any, dict[str, Any]]:
    from iamreach.graph.policy import PolicyLevel, Request, parse_policy

    if not isinstance(item, dict):
        raise InputError("expected a request object", field=prefix or None)
    for key in item:
        if key not in KNOWN_KEYS:
            raise InputError(f"unknown request key {key!r}", field=_field(prefix, str(key)))
    values: dict[str, Any] = {}
    for key in _STRINGS:
        if key not in item:
            raise InputError("missing (a string is required)", field=_field(prefix, key))
        if not isinstance(item[key], str) or not item[key]:
            raise InputError("expected a non-empty string", field=_field(prefix, key))
        values[key] = item[key]
    for key in _OPTIONAL_STRINGS:
        v = item.get(key)
        if v is not None and not isinstance(v, str):
            raise InputError("expected a string", field=_field(prefix, key))
        values[key] = v or None
    context = item.get("context", {})
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise InputError("expected an object of condition keys", field=_field(prefix, "context"))
    for k, v in context.items():
        ok = isinstance(v, str | int | float | bool) or (
            isinstance(v, list) and all(isinstance(x, str | int | float | bool) for x in v)
        )
        if not ok:
            raise InputError("expected a string, number, boolean or a list of them", field=_field(prefix, f"context.{k}"))
    known = item.get("known_keys")
    if known is not None and not (isinstance(known, list) and all(isinstance(k, str) for k in known)):
        raise InputError("expected a list of condition key names", field=_field(prefix, "known_keys"))

    def policy(doc: Any, where: str, kind: str) -> Any:
        f = _field(prefix, where)
        if not isinstance(doc, dict | str):
            raise InputError("expected a policy document (object or JSON text)", field=f)
        source = doc.get("Id") if isinstance(doc, dict) and isinstance(doc.get("Id"), str) else where
        try:
            return parse_policy(doc, source=source, kind=kind)
        except PolicyError as exc:
            raise PolicyError(exc.message, field=f"{f}.{exc.field}" if exc.field else f) from None

    kwargs: dict[str, Any] = {}
    for key, kind in _POLICY_LISTS.items():
        docs = item.get(key, [])
        if docs is None:
            docs = []
        if not isinstance(docs, list):
            raise InputError("expected a list of policy documents", field=_field(prefix, key))
        kwargs[key] = [policy(d, f"{key}[{i}]", kind) for i, d in enumerate(docs)]
    for key, kind in _POLICY_LAYERS.items():
        doc = item.get(key)
        kwargs[key] = None if doc is None else policy(doc, key, kind)
    for key, kind in _LEVEL_LISTS.items():
        levels = item.get(key, [])
        if levels is None:
            levels = []
        if not isinstance(levels, list) or not all(isinstance(lv, list) for lv in levels):
            raise InputError("expected a list of levels (root first), each a list of policy documents",
                             field=_field(prefix, key))
        kwargs[key] = [
            PolicyLevel(tuple(policy(d, f"{key}[{i}][{j}]", kind) for j, d in enumerate(lv)))
            for i, lv in enumerate(levels)
        ]
    for key in _FLAGS:
        v = item.get(key, False)
        if not isinstance(v, bool):
            raise InputError("expected true or false", field=_field(prefix, key))
        kwargs[key] = v
    req_flag = item.get("resource_policy_required")
    if req_flag is not None and not isinstance(req_flag, bool):
        raise InputError("expected true, false or null", field=_field(prefix, "resource_policy_required"))
    kwargs["resource_policy_required"] = req_flag
    request = Request(
        principal=values["principal"],
        action=values["action"],
        resource=values["resource"],
        resource_account=values["resource_account"],
        principal_account=values["principal_account"],
        context=context,
        unknown_keys=unknown_keys,
        known_keys=frozenset(known) if known else None,
    )
    return request, kwargs


def _text(results: list[Any], data: Any) -> str:
    items = data if isinstance(data, list) else [data]
    blocks = []
    for i, (res, item) in enumerate(zip(results, items, strict=True)):
        head = res.decision.value.upper()
        if res.denial:
            head += f" ({res.denial})"
        title = f"{item['principal']} -> {item['action']} on {item['resource']}"
        lines = [f"{'[' + str(i) + '] ' if isinstance(data, list) else ''}{head}: {title}"]
        lines += [f"  - {line}" for line in res.explanation]
        for t in res.conditions:
            vals = ", ".join(t.values)
            cond = f"{t.operator} {t.key} [{vals}]"
            if t.negated:
                cond = f"NOT ({cond})"
            who = f"{t.source}" + (f" statement {t.sid!r}" if t.sid else "")
            lines.append(f"  ? if {cond}  [{t.effect} in {who}]")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
