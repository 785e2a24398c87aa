"""Property tests: the evaluator is monotone the way AWS's logic is.

Documented consequences of "an explicit deny overrides any allow" and "access is the
intersection / union of allows": adding a Deny statement anywhere can never make an answer
more permissive, and adding an Allow statement anywhere can never make it less permissive.
Ranks: DENIED < CONDITIONAL < ALLOWED.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from iamreach.graph.policy import Decision, PolicyLevel, Request, evaluate, parse_policy

ACC = "111122223333"
OTHER = "444455556666"
ALICE = f"arn:aws:iam::{ACC}:user/alice"
ROLE = f"arn:aws:iam::{ACC}:role/R"
SESSION = f"arn:aws:sts::{ACC}:assumed-role/R/s"
X_USER = f"arn:aws:iam::{OTHER}:user/x"
RANK = {Decision.DENIED: 0, Decision.CONDITIONAL: 1, Decision.ALLOWED: 2}

actions = hs.sampled_from(["s3:GetObject", "s3:*", "*", "ec2:*", "s3:Get*", "s3:getobject", "sts:AssumeRole"])
resources = hs.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:s3:::c/*", "arn:aws:s3:::b/${aws:username}"])
conditions = hs.sampled_from([
    None,
    {"StringEquals": {"aws:SourceVpc": "vpc-1"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEquals": {"aws:PrincipalAccount": ACC}},
    {"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["team*"]}},
])
principals = hs.sampled_from(["*", {"AWS": ALICE}, {"AWS": ACC}, {"AWS": OTHER}, {"AWS": ROLE}, {"AWS": SESSION},
                              {"Service": "lambda.amazonaws.com"}])


@hs.composite
def statement(draw, effect=None, with_principal=False):
    s = {"Effect": effect or draw(hs.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    if draw(hs.booleans()) and draw(hs.booleans()):
        s["NotAction"] = draw(actions)
    else:
        s["Action"] = draw(hs.lists(actions, min_size=1, max_size=2))
    if draw(hs.integers(0, 5)) == 0:
        s["NotResource"] = draw(resources)
    else:
        s["Resource"] = draw(resources)
    cond = draw(conditions)
    if cond:
        s["Condition"] = cond
    if with_principal:
        if draw(hs.integers(0, 6)) == 0:
            s["NotPrincipal"] = draw(principals)
        else:
            s["Principal"] = draw(principals)
    return s


ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


@hs.composite
def docs(draw, with_principal=False, max_size=3):
    """A policy's statements; usually starting with an allow-all so that answers vary."""
    stmts = draw(hs.lists(statement(with_principal=with_principal), max_size=max_size))
    if draw(hs.integers(0, 3)):
        stmts = [dict(ALLOW_ALL, Principal="*") if with_principal else dict(ALLOW_ALL), *stmts]
    return stmts


LAYERS = ("identity", "resource", "boundary", "session", "scp", "rcp", "vpce")


@hs.composite
def scenario(draw):
    return {
        "identity": draw(hs.lists(docs(), max_size=2)),
        "resource": draw(hs.none() | docs(with_principal=True)),
        "boundary": draw(hs.none() | docs()),
        "session": draw(hs.none() | docs()),
        "scp": draw(hs.lists(docs(), max_size=2)),
        "rcp": draw(hs.lists(docs(with_principal=True), max_size=1)),
        "vpce": draw(hs.none() | docs(with_principal=True)),
        "principal": draw(hs.sampled_from([ALICE, SESSION, ROLE, X_USER, "anonymous", "lambda.amazonaws.com"])),
        "action": draw(hs.sampled_from(["s3:GetObject", "s3:GetObject", "sts:AssumeRole"])),
        "context": draw(hs.dictionaries(hs.sampled_from(["aws:SourceVpc", "aws:SecureTransport", "aws:SourceIp", "aws:TagKeys"]),
                                        hs.sampled_from(["vpc-1", "true", "10.1.2.3", "false", ["team-a"]]), max_size=3)),
        "unknown": draw(hs.booleans()),
        "mgmt": draw(hs.booleans()) and draw(hs.booleans()),
    }


def _run(sc):
    def pol(stmts, kind):
        return parse_policy({"Version": "2012-10-17", "Statement": stmts}, source=kind, kind=kind)

    resource = "arn:aws:s3:::b/k" if sc["action"].startswith("s3:") else f"arn:aws:iam::{ACC}:role/T"
    req = Request(sc["principal"], sc["action"], resource, resource_account=ACC, context=sc["context"],
                  unknown_keys="unknown" if sc["unknown"] else "absent")
    return evaluate(
        req,
        identity_policies=[pol(d, "identity") for d in sc["identity"]],
        resource_policy=None if sc["resource"] is None else pol(sc["resource"], "resource" if sc["resource"] else "vpce"),
        permission_boundaries=[] if sc["boundary"] is None else [pol(sc["boundary"], "boundary")],
        session_policy=None if sc["session"] is None else pol(sc["session"], "session"),
        scps=[PolicyLevel((pol(d, "scp"),)) for d in sc["scp"]],
        rcps=[PolicyLevel((pol(d, "vpce"),)) for d in sc["rcp"]],
        vpc_endpoint_policy=None if sc["vpce"] is None else pol(sc["vpce"], "vpce"),
        principal_is_management_account=sc["mgmt"],
    )


def _add(sc, layer, stmt):
    sc = {k: (list(v) if isinstance(v, list) else v) for k, v in sc.items()}
    if layer in ("identity", "scp", "rcp"):
        if sc[layer]:
            sc[layer][0] = [*sc[layer][0], stmt]
        elif layer == "identity":
            sc[layer] = [[stmt]]
        else:
            return None  # adding a level would change the organization's shape, not a policy
    else:
        sc[layer] = [*(sc[layer] or []), stmt] if sc[layer] is not None else None
        if sc[layer] is None:
            return None
    return sc


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(sc=scenario(), layer=hs.sampled_from(LAYERS), data=hs.data())
def test_adding_a_deny_never_makes_an_answer_more_permissive(sc, layer, data):
    stmt = data.draw(statement(effect="Deny", with_principal=layer in ("resource", "rcp", "vpce")))
    after_sc = _add(sc, layer, stmt)
    if after_sc is None:
        return
    before, after = _run(sc), _run(after_sc)
    assert RANK[after.decision] <= RANK[before.decision], (before, after)


@SETTINGS
@given(sc=scenario(), layer=hs.sampled_from(LAYERS), data=hs.data())
def test_adding_an_allow_never_makes_an_answer_less_permissive(sc, layer, data):
    stmt = data.draw(statement(effect="Allow", with_principal=layer in ("resource", "rcp", "vpce")))
    after_sc = _add(sc, layer, stmt)
    if after_sc is None:
        return
    before, after = _run(sc), _run(after_sc)
    assert RANK[after.decision] >= RANK[before.decision], (before, after)


@SETTINGS
@given(sc=scenario())
def test_complete_context_never_conditional_and_results_are_well_formed(sc):
    sc = dict(sc, unknown=False)
    res = _run(sc)
    assert res.decision != Decision.CONDITIONAL
    assert (res.denial is None) == (res.decision == Decision.ALLOWED)
    assert res.explanation and all(isinstance(x, str) and "\n" not in x for x in res.explanation)
    d = res.to_dict()
    assert set(d) == {"decision", "denial", "conditions", "explanation"}


@SETTINGS
@given(sc=scenario())
def test_conditional_answers_list_their_terms(sc):
    res = _run(dict(sc, unknown=True))
    if res.decision == Decision.CONDITIONAL:
        assert res.conditions and res.denial is None
    else:
        assert res.conditions == ()


@SETTINGS
@given(sc=scenario())
def test_identity_only_fast_path_agrees_with_the_general_path(sc):
    """An allow-all session policy changes nothing (intersection with everything) but forces the
    general evaluation path: both paths must give the same decision and denial."""
    base = dict(sc, resource=None, boundary=None, session=None, scp=[], rcp=[], vpce=None)
    plain = _run(base)
    forced = _run(dict(base, session=[ALLOW_ALL]))
    if sc["principal"] in (ALICE, SESSION, ROLE, X_USER):
        assert (plain.decision, plain.denial) == (forced.decision, forced.denial), (plain, forced)
        assert set(plain.conditions) == set(forced.conditions)
