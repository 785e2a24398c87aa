"""The registry, the Report/Finding contract, severities, selection, fingerprints and docs/checks.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_checks_support import PROD, SYN, Kit

from iamreach.analyses.checks import default_registry
from iamreach.analyses.checks.docs import render as render_docs
from iamreach.analyses.checks.registry import Registry, check
from iamreach.analyses.report import SEVERITIES, Finding, Report
from iamreach.config import Config
from iamreach.errors import InputError
from iamreach.model import NodeKind

ROOT = Path(__file__).resolve().parent.parent


def _cfg(**kw) -> Config:
    base = Config.default()
    return Config(labels=base.labels, forbid=base.forbid, **kw)


@check(id="T-001", title="Every account", severity="low", categories=("test",), kinds=("account",),
       rationale="test", remediation="test")
def every_account(G, config):
    for n, d in sorted(G.nodes(data=True)):
        if d.get("kind") == "account":
            yield every_account.meta.finding(resource=n, account=d["account"], message=f"{n}", remediation="x",
                                             key=(n,))


def _graph():
    k = Kit()
    k.account(PROD, "production")
    k.account(SYN, "synthetic")
    return k.G


def test_default_registry_has_the_fourteen_checks_with_full_metadata():
    reg = default_registry()
    assert reg.ids() == tuple(f"IAMR-{i:03d}" for i in range(1, 15))
    kinds = {k.value for k in NodeKind}
    for c in reg:
        m = c.meta
        assert m.severity in SEVERITIES and m.title and m.rationale and m.remediation and m.categories
        assert set(m.kinds) <= kinds, (m.id, set(m.kinds) - kinds)
    assert default_registry() is not reg  # a new registry each time: no import-time global


def test_register_twice_and_non_check_are_errors():
    reg = Registry([every_account])
    with pytest.raises(ValueError, match="twice"):
        reg.register(every_account)
    with pytest.raises(TypeError):
        reg.register(lambda G, c: ())


def test_bad_metadata_is_rejected():
    with pytest.raises(ValueError, match="severity"):
        check(id="T-002", title="t", severity="urgent", categories=(), kinds=(), rationale="r", remediation="r")
    with pytest.raises(ValueError, match="PREFIX-NNN"):
        check(id="bad", title="t", severity="low", categories=(), kinds=(), rationale="r", remediation="r")


def test_severity_override_exclude_and_selection():
    reg = Registry([every_account])
    G = _graph()
    assert {f.severity for f in reg.run(G, _cfg()).findings} == {"low"}
    report = reg.run(G, _cfg(severities={"T-001": "critical"}))
    assert {f.severity for f in report.findings} == {"critical"} and report.checks[0].severity == "critical"
    assert reg.run(G, _cfg(exclude_checks=("T-001",))).findings == ()
    assert len(reg.run(G, _cfg(), ids=["T-001"]).findings) == 2
    with pytest.raises(InputError, match="unknown check"):
        reg.run(G, _cfg(), ids=["T-999"])
    with pytest.raises(InputError, match="unknown check"):
        reg.run(G, _cfg(severities={"T-999": "low"}))


def test_fingerprint_is_stable_and_ignores_order_message_and_severity():
    a = Finding(check_id="IAMR-004", title="t", status="fail", severity="high", resource="r", account=None,
                message="one", remediation="x", key=("b", "a"))
    b = Finding(check_id="IAMR-004", title="t", status="fail", severity="low", resource="r", account=None,
                message="two", remediation="y", key=("a", "b"))
    c = Finding(check_id="IAMR-004", title="t", status="fail", severity="high", resource="r", account=None,
                message="one", remediation="x", key=("a", "c"))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", a.fingerprint)


def test_report_sorts_worst_first_and_round_trips():
    mk = lambda sev, st, res: Finding(check_id="IAMR-002", title="t", status=st, severity=sev,  # noqa: E731
                                      resource=res, account=None, message=res, remediation="x")
    r1 = Report(findings=(mk("low", "fail", "a"), mk("critical", "unknown", "b"), mk("critical", "fail", "c")))
    r2 = Report(findings=tuple(reversed(r1.findings)))
    assert [f.resource for f in r1.findings] == ["c", "b", "a"] == [f.resource for f in r2.findings]
    assert Report.from_dict(r1.to_dict()) == r1
    assert r1.at_or_above("high") == r1.findings[:2]
    assert r1.at_or_above("high", include_unknown=False) == r1.findings[:1]
    with pytest.raises(ValueError):
        Finding(check_id="X-001", title="t", status="pass", severity="low", resource="r", account=None,
                message="m", remediation="x")


def test_docs_checks_md_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == render_docs(), "regenerate with: python -m iamreach.analyses.checks.docs"


def test_every_check_has_a_failing_and_a_passing_test():
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").glob("test_checks_*.py")))
    for cid in default_registry().ids():
        n = cid.split("-")[1]
        assert re.search(rf"def test_{n}_fails", text), f"{cid} has no failing test"
        assert re.search(rf"def test_{n}_(passes|holds)", text), f"{cid} has no passing test"
