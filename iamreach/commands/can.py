"""``iamreach can`` and ``iamreach who-can``: single requests against a snapshot."""

from __future__ import annotations

import orjson

__all__ = ["register"]


def register(sub) -> None:
    from iamreach.commands._common import add_snapshot_args

    p = sub.add_parser("can", help="can PRINCIPAL do ACTION on RESOURCE? (every policy layer of the snapshot)")
    add_snapshot_args(p)
    p.add_argument("--principal", required=True, metavar="ARN", help="user/role ARN, session ARN, or account id")
    p.add_argument("--action", required=True, metavar="ACTION")
    p.add_argument("--resource", required=True, metavar="ARN")
    p.add_argument("--context", action="append", metavar="KEY=VALUE", help="request context (repeatable)")
    p.add_argument("--format", choices=("json", "text"), default="json")
    p.set_defaults(func=run_can)

    w = sub.add_parser("who-can", help="every principal that can do ACTION on RESOURCE")
    add_snapshot_args(w)
    w.add_argument("--action", required=True, metavar="ACTION")
    w.add_argument("--resource", required=True, metavar="ARN")
    w.add_argument("--context", action="append", metavar="KEY=VALUE", help="request context (repeatable)")
    w.add_argument("--format", choices=("json", "text"), default="json")
    w.set_defaults(func=run_who_can)


def _result_dict(res) -> dict:
    d = res.to_dict()
    return {"decision": d["decision"], "conditions": d["conditions"], "explanation": d["explanation"],
            "denial": d.get("denial")}


def run_can(args) -> int:
    from iamreach.analyses.paths import can
    from iamreach.commands._common import load_graph, parse_context, write_output

    ctx = parse_context(args.context)
    _, _, G = load_graph(args)
    res = can(G, args.principal, args.action, args.resource, context=ctx or None)
    d = _result_dict(res)
    if args.format == "json":
        write_output(orjson.dumps(d, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode(), None)
    else:
        lines = [f"{d['decision'].upper()}: {args.principal} {args.action} {args.resource}"]
        lines += [f"  {e}" for e in d["explanation"]]
        lines += [f"  condition: {orjson.dumps(c, option=orjson.OPT_SORT_KEYS).decode()}" for c in d["conditions"]]
        write_output("\n".join(lines), None)
    return 0


def run_who_can(args) -> int:
    from iamreach.analyses.paths import who_can
    from iamreach.commands._common import load_graph, parse_context, write_output

    ctx = parse_context(args.context)
    _, _, G = load_graph(args)
    rows = who_can(G, args.action, args.resource, context=ctx or None)
    doc = {"action": args.action, "resource": args.resource,
           "principals": [{"principal": p, **_result_dict(r)} for p, r in rows],
           "gaps": list(G.graph.get("gaps", ()))}
    if args.format == "json":
        write_output(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode(), None)
    else:
        lines = [f"{len(rows)} principal(s) can {args.action} on {args.resource}"]
        lines += [f"  {r.decision.value:<11} {p}" for p, r in rows]
        if doc["gaps"]:
            lines.append(f"  ({len(doc['gaps'])} collection gap(s): the list may be incomplete)")
        write_output("\n".join(lines), None)
    return 0
