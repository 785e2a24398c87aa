"""Policy grammar: strict validation, PolicyError naming the field, tolerant input forms.

Reference: IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON
policy language".
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from iamreach.errors import PolicyError
from iamreach.graph.policy import Policy, PolicyIndex, parse_policy
from iamreach.graph.policy.document import known_actions

OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def test_statement_object_or_list():
    single = parse_policy({"Version": "2012-10-17", "Statement": OK})
    listed = parse_policy({"Version": "2012-10-17", "Statement": [OK, dict(OK, Effect="Deny")]})
    assert isinstance(single, Policy) and len(single.statements) == 1
    assert [s.effect for s in listed.statements] == ["Allow", "Deny"]
    assert listed.statements[1].index == 1


@pytest.mark.parametrize(
    "doc,field,message",
    [
        ({"Statement": [OK], "Foo": 1}, "Foo", "unknown top-level element"),
        ({"Version": "2020-01-01", "Statement": [OK]}, "Version", "2012-10-17"),
        ({"Version": 2012, "Statement": [OK]}, "Version", "2012-10-17"),
        ({"Id": 5, "Statement": [OK]}, "Id", "expected a string"),
        ({"Version": "2012-10-17"}, "Statement", "missing Statement"),
        ({"Statement": "Allow"}, "Statement", "statement object"),
        ({"Statement": [OK, 3]}, "Statement[1]", "statement object"),
        ({"Statement": [dict(OK, Effect="allow")]}, "Statement[0].Effect", 'expected "Allow" or "Deny"'),
        ({"Statement": [{"Action": "*", "Resource": "*"}]}, "Statement[0].Effect", 'expected "Allow" or "Deny"'),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Statement[0].Action", "exactly one of Action or NotAction"),
        ({"Statement": [dict(OK, NotAction="s3:*")]}, "Statement[0].Action", "exactly one of Action or NotAction"),
        ({"Statement": [dict(OK, Action=5)]}, "Statement[0].Action", "string or a list"),
        ({"Statement": [dict(OK, Action=[])]}, "Statement[0].Action", "non-empty list"),
        ({"Statement": [dict(OK, Action=["s3:GetObject", 7])]}, "Statement[0].Action[1]", "expected a string"),
        ({"Statement": [dict(OK, Action="GetObject")]}, "Statement[0].Action", "service:action"),
        ({"Statement": [dict(OK, Action=["s3:Get*", ":x"])]}, "Statement[0].Action[1]", "service:action"),
        ({"Statement": [{"Effect": "Allow", "Action": "*"}]}, "Statement[0].Resource", "Resource or NotResource"),
        ({"Statement": [dict(OK, NotResource="*")]}, "Statement[0].Resource", "only one of Resource or NotResource"),
        ({"Statement": [dict(OK, Resource={"a": 1})]}, "Statement[0].Resource", "string or a list"),
        ({"Statement": [dict(OK, Sid=1)]}, "Statement[0].Sid", "expected a string"),
        ({"Statement": [dict(OK, Principal="*")]}, "Statement[0].Principal", "cannot name principals"),
        ({"Statement": [dict(OK, Condition=[])]}, "Statement[0].Condition", "object of condition operators"),
        ({"Statement": [dict(OK, Condition={"StringEquals": "x"})]}, "Statement[0].Condition.StringEquals",
         "object of condition keys"),
        ({"Statement": [dict(OK, Condition={"StringEquals": {"k": []}})]}, "Statement[0].Condition.StringEquals.k",
         "at least one"),
        ({"Statement": [dict(OK, Extra=1)]}, "Statement[0].Extra", "unknown statement element"),
        ({"Statement": {"Effect": "Deny"}}, "Statement.Action", "exactly one of Action"),
    ],
)
def test_bad_identity_documents(doc, field, message):
    with pytest.raises(PolicyError) as exc:
        parse_policy(doc)
    assert exc.value.field == field
    assert message in exc.value.message
    assert str(exc.value) == f"{field}: {exc.value.message}"


@pytest.mark.parametrize(
    "stmt,field,message",
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, "Statement[0].Principal", "needs Principal"),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": "AWS"}, "Statement[0].Principal", '"*" or an object'),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": {"IAM": "x"}}, "Statement[0].Principal", "unknown principal type"),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": 1}}, "Statement[0].Principal.AWS", "string or a list"),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": "*"}, "NotPrincipal": {"AWS": "*"}},
         "Statement[0].Principal", "only one of Principal or NotPrincipal"),
    ],
)
def test_bad_resource_policies(stmt, field, message):
    with pytest.raises(PolicyError) as exc:
        parse_policy({"Statement": [stmt]}, kind="resource")
    assert exc.value.field == field and message in exc.value.message


def test_trust_policies_need_no_resource():
    p = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, kind="trust")
    assert p.statements[0].resources is None and p.statements[0].resource_any


def test_unknown_kind_is_policy_error():
    with pytest.raises(PolicyError, match="unknown policy kind"):
        parse_policy({"Statement": []}, kind="bucket")


def test_input_forms_json_text_bytes_url_encoded():
    doc = {"Version": "2012-10-17", "Statement": [OK]}
    text = json.dumps(doc)
    for form in (doc, text, text.encode(), quote(text), quote(text, safe=""), "\ufeff" + text):
        assert parse_policy(form).statements[0].actions == ("s3:GetObject",)
    for bad, message in ((b"\xff\xfe", "UTF-8"), ("{not json", "not valid JSON"), ("%7Bnope", "not valid JSON"),
                         (42, "expected a policy document"), ("[1, 2]", "JSON object"), ("[" * 100000, "not valid JSON")):
        with pytest.raises(PolicyError, match=message):
            parse_policy(bad)


def test_matches_action_resource_and_index():
    p = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Sid": "A", "Effect": "Allow", "Action": ["s3:Get*", "EC2:DescribeInstances"], "Resource": "arn:aws:s3:::b/${aws:username}/*"},
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::secret*"}]}, source="P")
    a, b, c = p.statements
    assert a.matches_action("s3:GETOBJECT") and a.matches_action("ec2:describeinstances") and not a.matches_action("s3:Put")
    assert b.matches_action("s3:PutObject") and not b.matches_action("iam:CreateUser")
    from iamreach.graph.policy import Context
    assert a.matches_resource("arn:aws:s3:::b/alice/k", Context({"aws:username": "alice"})) is True
    assert a.matches_resource("arn:aws:s3:::b/alice/k", Context({})) is False
    assert a.matches_resource("arn:aws:s3:::b/alice/k", Context({}, unknown=True)) is None
    assert c.matches_resource("arn:aws:s3:::secret-1") is False and c.matches_resource("arn:aws:s3:::open") is True
    assert a.services == frozenset({"s3", "ec2"}) and b.services is None and c.services is None
    assert set(p.allowed_action_patterns()) == {"s3:get*", "ec2:describeinstances", "*"}
    denies, allows = p.candidates("s3:getobject")
    assert denies == (b,) and allows == (a, c)
    idx = PolicyIndex([p])
    assert [s for _, s in idx.statements_for("ec2:DescribeInstances")] == [a, b, c]
    assert [s for _, s in idx.statements_for("iam:CreateUser")] == [c]
    assert idx.services() == frozenset({"s3", "ec2"}) and idx.has_wildcard_service()


# -- arbitrary JSON never raises anything but PolicyError ------------------------------------------
_scalars = hs.none() | hs.booleans() | hs.integers() | hs.floats(allow_nan=False) | hs.text(max_size=12)
_keys = hs.sampled_from(["Version", "Statement", "Effect", "Action", "NotAction", "Resource", "NotResource",
                         "Principal", "NotPrincipal", "Condition", "Sid", "AWS", "Service", "StringEquals",
                         "ForAnyValue:StringLike", "IpAddress", "Null", "NumericLessThanIfExists", "DateEquals",
                         "BinaryEquals", "ArnLike", "Bool", "aws:SourceIp", "Allow", "Deny", "*", "s3:Get*"]) | hs.text(max_size=8)
_json = hs.recursive(
    _scalars | hs.sampled_from(["2012-10-17", "Allow", "Deny", "*", "s3:GetObject", "10.0.0.0/8", "true", "${aws:username}"]),
    lambda children: hs.lists(children, max_size=4) | hs.dictionaries(_keys, children, max_size=5),
    max_leaves=30,
)


def _statementish(draw_dict):
    return {"Version": "2012-10-17", "Statement": draw_dict}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_json, kind=hs.sampled_from(["identity", "resource", "trust", "scp", "rcp", "vpce", "boundary", "session"]))
def test_arbitrary_json_only_raises_policy_error(doc, kind):
    for candidate in (doc, _statementish(doc), json.dumps(doc)):
        try:
            parse_policy(candidate, kind=kind)
        except PolicyError:
            pass


_stmt = hs.fixed_dictionaries(
    {"Effect": hs.sampled_from(["Allow", "Deny", "allow"]), "Action": _json},
    optional={"Resource": _json, "Condition": hs.dictionaries(_keys, hs.dictionaries(_keys, _json, max_size=2), max_size=2),
              "Principal": _json, "Sid": _json},
)


@settings(max_examples=200, deadline=None)
@given(stmts=hs.lists(_stmt, max_size=3), kind=hs.sampled_from(["identity", "resource"]))
def test_statement_shaped_json_only_raises_policy_error(stmts, kind):
    try:
        parse_policy({"Version": "2012-10-17", "Statement": stmts}, kind=kind)
    except PolicyError:
        pass


# The action index (Policy.candidates / Policy.lookup, the evaluator's hot path) must list exactly
# the statements whose Action / NotAction match, in statement order: literal actions, catalogued
# expansions of service globs, wildcard-service and NotAction statements (matched per service or per
# action), uncatalogued actions and strings that are not "service:action".
_action_patterns = hs.sampled_from([
    "*", "s3:*", "S3:Get*", "s3:GetObject", "iam:*", "ec2:Describe*", "s*:Get*", "*:List*", "s3:Get?bject",
    "foo:Bar", "foo:*", "organizations:*",
])
_index_actions = ["s3:GetObject", "S3:getobject", "s3:PutObject", "s3:GetNotInCatalogue", "iam:PassRole",
                  "ec2:DescribeInstances", "sqs:ListQueues", "foo:Bar", "foo:Baz", "foo", "s3", "*"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stmts=hs.lists(hs.tuples(hs.booleans(), hs.booleans(), hs.lists(_action_patterns, min_size=1, max_size=3)),
                      min_size=1, max_size=6))
def test_action_index_lists_exactly_the_matching_statements(stmts):
    doc = {"Statement": [{"Effect": "Allow" if allow else "Deny", ("NotAction" if not_action else "Action"): actions,
                          "Resource": "*"} for allow, not_action, actions in stmts]}
    policy = parse_policy(doc)
    for action in _index_actions:
        a = action.lower()
        matching = [st for st in policy.statements if st.matches_action(action)]
        expected = (tuple(st for st in matching if not st.is_allow), tuple(st for st in matching if st.is_allow))
        assert policy.candidates(a) == expected, action
        assert policy.candidates(a) == expected, action  # cached
        hit = policy.lookup.get(a, policy.absent)
        if hit is not None and a in known_actions():
            assert hit == expected, action


def test_statements_listing_the_same_actions_and_principals_share_their_compiled_form():
    """Statements stamped from one template share the compiled Action list and Principal (memory:
    a large build parses tens of thousands of them); sharing changes no answer."""
    def bucket_policy(name):
        return {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
             "Action": ["s3:GetObject", "s3:List*"], "Resource": f"arn:aws:s3:::{name}/*"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/R"},
             "NotAction": ["s3:GetObject", "s3:List*"], "Resource": f"arn:aws:s3:::{name}/*"}]}

    a = parse_policy(bucket_policy("a"), kind="resource")
    b = parse_policy(bucket_policy("b"), kind="resource")
    (a0, a1), (b0, b1) = a.statements, b.statements
    assert a0._exact_actions is b0._exact_actions and a0._action_globs is b0._action_globs
    assert a0.principal is b0.principal and a1.not_principal is b1.not_principal
    assert a0.services == frozenset({"s3"}) and a1.services is None  # NotAction: no service index
    assert a1.not_action and not a0.not_action
    assert b.candidates("s3:listbucket") == ((), (b0,)) and b.candidates("s3:putobject") == ((b1,), ())
    assert a0.matches_resource("arn:aws:s3:::a/k") and not b0.matches_resource("arn:aws:s3:::a/k")


@pytest.mark.parametrize("attempt", [1, 2])
def test_a_bad_action_list_is_reported_every_time(attempt):
    """A list that failed validation is never reused: the second document with it fails the same way."""
    doc = {"Statement": [OK, {"Effect": "Allow", "Action": ["s3:GetObject", "GetObject"], "Resource": "*"}]}
    with pytest.raises(PolicyError) as e:
        parse_policy(doc)
    assert e.value.field == "Statement[1].Action[1]"
    bad = {"Statement": {"Effect": "Allow", "Principal": {"AWS": [1]}, "Action": "s3:GetObject", "Resource": "*"}}
    with pytest.raises(PolicyError) as e:
        parse_policy(bad, kind="resource")
    assert e.value.field == "Statement.Principal.AWS[0]"
