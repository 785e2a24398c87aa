"""Configuration: labels by selector, forbidden label pairs, check severities and scopes.

Read from ``iamreach.toml`` or the ``[tool.iamreach]`` table of a ``pyproject.toml``::

    [labels]
    synthetic = ["account:222233334444", "tag:Workload=synthetic-data"]
    production = ["ou:/Root/Production"]
    phi = ["tag:DataClassification=PHI"]

    [rules]
    forbid = [{ from = "synthetic", to = "phi", name = "synthetic-to-phi" }]

    [checks]
    severities = { IAMR-013 = "low" }
    exclude = ["IAMR-011"]

Labels given in the file are added to the defaults (``defaults = false`` under ``[labels]``
drops the default selectors). A config error names the file, the key and its line.

Examples
--------
>>> cfg = Config.default()
>>> sorted(cfg.labels)
['phi', 'production', 'synthetic']
>>> cfg.forbid[0].source, cfg.forbid[0].target
('synthetic', 'phi')
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iamreach.errors import ConfigError, SelectorError
from iamreach.selectors import Selector, parse_selector

__all__ = ["Config", "ForbidRule", "load_config", "DEFAULT_LABELS"]

#: Default selectors: common tags, matched on a node's own tags (values are globs, and
#: the case variants people use are listed).
DEFAULT_LABELS: dict[str, tuple[str, ...]] = {
    "production": (
        "tag:Environment=prod*", "tag:Environment=Prod*", "tag:Environment=PROD*",
        "tag:environment=prod*", "tag:env=prod*", "tag:Env=prod*", "tag:Env=Prod*",
    ),
    "synthetic": (
        "tag:Workload=synthetic*", "tag:workload=synthetic*",
        "tag:Environment=synthetic*", "tag:environment=synthetic*", "tag:env=synthetic*",
        "tag:Environment=Synthetic*", "tag:DataType=synthetic*",
    ),
    "phi": (
        "tag:DataClassification=PHI", "tag:DataClassification=phi",
        "tag:data-classification=PHI", "tag:data-classification=phi",
        "tag:DataClassification=PHI-*", "tag:data_classification=PHI",
    ),
}

#: Labels an account's label passes down to everything in the account.
DEFAULT_INHERIT = ("production", "synthetic")

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class ForbidRule:
    """Reaching ``target``-labelled nodes from ``source``-labelled ones is forbidden."""

    source: str
    target: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"from": self.source, "to": self.target, "name": self.name}


@dataclass(frozen=True)
class Config:
    labels: dict[str, tuple[Selector, ...]]
    forbid: tuple[ForbidRule, ...]
    inherit: tuple[str, ...] = DEFAULT_INHERIT
    severities: dict[str, str] = field(default_factory=dict)
    exclude_checks: tuple[str, ...] = ()
    #: free-form per-check options, e.g. {"IAMR-013": {"scope": "all"}}
    check_options: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def default(cls) -> Config:
        return cls(
            labels={k: tuple(parse_selector(s) for s in v) for k, v in DEFAULT_LABELS.items()},
            forbid=(ForbidRule("synthetic", "phi", "synthetic-to-phi"),),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": {k: [s.text for s in v] for k, v in sorted(self.labels.items())},
            "forbid": [r.to_dict() for r in self.forbid],
            "inherit": list(self.inherit),
            "severities": dict(sorted(self.severities.items())),
            "exclude_checks": list(self.exclude_checks),
        }


def _line_of(text: str, key: str) -> int | None:
    k = re.escape(key)
    pat = re.compile(rf"(?<![\w-])\"?{k}\"?\s*=|^\s*\[+\s*(?:[\w.-]+\.)?{k}\s*\]+", re.M)
    m = pat.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _err(path: str, text: str, key: str, message: str) -> ConfigError:
    line = None
    for part in reversed(key.split(".")):
        line = _line_of(text, part.split("[")[0])
        if line:
            break
    where = f"{key} (line {line})" if line else key
    return ConfigError(message, file=path, field=where)


def load_config(path: str | Path | None) -> Config:
    """Load a config file (``iamreach.toml`` or a pyproject with ``[tool.iamreach]``).

    ``None`` gives :meth:`Config.default`; so does a pyproject without the table.
    """
    if path is None:
        return Config.default()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(p)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=str(p)) from exc
    if p.name == "pyproject.toml":
        for key in ("tool", "iamreach"):
            data = data.get(key, {})
            if not isinstance(data, dict):
                raise _err(str(p), text, key, "expected a table ([tool.iamreach])")
    return _from_dict(data, str(p), text)


def _from_dict(data: dict, path: str, text: str) -> Config:
    base = Config.default()
    allowed = {"labels", "rules", "checks", "inherit"}
    for key in data:
        if key not in allowed:
            raise _err(path, text, key, f"unknown key; expected one of {sorted(allowed)}")
    labels = dict(base.labels)
    raw_labels = data.get("labels", {})
    if not isinstance(raw_labels, dict):
        raise _err(path, text, "labels", "expected a table of label = [selectors]")
    use_defaults = raw_labels.get("defaults", True)
    if not isinstance(use_defaults, bool):
        raise _err(path, text, "labels.defaults", "expected true or false")
    if not use_defaults:
        labels = {}
    for name, sels in raw_labels.items():
        if name == "defaults":
            continue
        if isinstance(sels, str):
            sels = [sels]
        if not isinstance(sels, list) or not all(isinstance(s, str) for s in sels):
            raise _err(path, text, f"labels.{name}", "expected a list of selector strings")
        try:
            parsed = tuple(parse_selector(s, where=f"labels.{name}") for s in sels)
        except SelectorError as exc:
            raise _err(path, text, f"labels.{name}", exc.message) from None
        for sel in parsed:
            if sel.labels():
                raise _err(path, text, f"labels.{name}", "a label's selectors cannot refer to labels")
        labels[name] = labels.get(name, ()) + parsed
    forbid = list(base.forbid)
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise _err(path, text, "rules", "expected a table with a 'forbid' list")
    if "forbid" in rules:
        items = rules["forbid"]
        if isinstance(items, dict):
            items = [items]
        if not isinstance(items, list):
            raise _err(path, text, "rules.forbid", "expected a list of {from = LABEL, to = LABEL}")
        forbid = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("from"), str) or not isinstance(item.get("to"), str):
                raise _err(path, text, f"rules.forbid[{i}]", "expected {from = \"LABEL\", to = \"LABEL\"}")
            for end in ("from", "to"):
                if item[end] not in labels:
                    raise _err(path, text, f"rules.forbid[{i}].{end}",
                               f"unknown label {item[end]!r}; known: {sorted(labels)}")
            forbid.append(ForbidRule(item["from"], item["to"], str(item.get("name") or f"{item['from']}-to-{item['to']}")))
    checks = data.get("checks", {})
    if not isinstance(checks, dict):
        raise _err(path, text, "checks", "expected a table")
    severities = checks.get("severities", {})
    if not isinstance(severities, dict):
        raise _err(path, text, "checks.severities", "expected a table of CHECK-ID = severity")
    for cid, sev in severities.items():
        if sev not in SEVERITIES:
            raise _err(path, text, f"checks.severities.{cid}", f"expected one of {list(SEVERITIES)}")
    exclude = checks.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise _err(path, text, "checks.exclude", "expected a list of check ids")
    options = {k: v for k, v in checks.items() if k not in ("severities", "exclude")}
    for k, v in options.items():
        if not isinstance(v, dict):
            raise _err(path, text, f"checks.{k}", "expected a table of options for that check")
    inherit = data.get("inherit", list(DEFAULT_INHERIT))
    if not isinstance(inherit, list) or not all(isinstance(x, str) for x in inherit):
        raise _err(path, text, "inherit", "expected a list of label names")
    return Config(labels=labels, forbid=tuple(forbid), inherit=tuple(inherit), severities=dict(severities),
                  exclude_checks=tuple(exclude), check_options=options, source=path)
