"""Condition operators, one table row per documented behaviour.

Reference: IAM User Guide, "IAM JSON policy elements: Condition operators", "Single-valued vs.
multivalued context keys", "...IfExists condition operators", "Condition operator to check
existence of condition keys" (Null).
"""

from __future__ import annotations

import pytest

from iamreach.errors import PolicyError
from iamreach.graph.policy import Decision, LowerKeys, Request, evaluate, parse_policy

USER = "arn:aws:iam::111122223333:user/alice"
ABSENT = object()


def _decide(operator, key, values, ctx_value=ABSENT, *, unknown=False, ctx=None, version="2012-10-17"):
    doc = {
        "Version": version,
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*", "Condition": {operator: {key: values}}}
        ],
    }
    context = dict(ctx or {})
    if ctx_value is not ABSENT:
        context[key if not key.startswith("ctx:") else key[4:]] = ctx_value
    req = Request(USER, "s3:ListAllMyBuckets", "*", context=context, unknown_keys="unknown" if unknown else "absent")
    return evaluate(req, identity_policies=[parse_policy(doc)]).decision


A, D, C = Decision.ALLOWED, Decision.DENIED, Decision.CONDITIONAL

# (documented rule, operator, key, policy values, context value, expected)
CASES = [
    # String operators: case-sensitive values, OR across values.
    ("StringEquals matches exactly", "StringEquals", "aws:username", ["alice", "bob"], "alice", A),
    ("StringEquals is case-sensitive", "StringEquals", "aws:PrincipalTag/team", "Data", "data", D),
    ("StringEquals: missing key is false", "StringEquals", "aws:PrincipalTag/team", "data", ABSENT, D),
    ("StringNotEquals: value in list is false", "StringNotEquals", "aws:PrincipalTag/team", ["a", "b"], "a", D),
    ("StringNotEquals: other value is true", "StringNotEquals", "aws:PrincipalTag/team", ["a", "b"], "c", A),
    ("StringNotEquals: missing key is true (negated operator)", "StringNotEquals", "aws:PrincipalTag/x", "a", ABSENT, A),
    ("StringEqualsIgnoreCase", "StringEqualsIgnoreCase", "aws:PrincipalTag/team", "DATA", "data", A),
    ("StringNotEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "aws:PrincipalTag/team", "DATA", "data", D),
    ("StringLike with * and ?", "StringLike", "s3:prefix", ["home/a?ice/*"], "home/alice/x/y", A),
    ("StringLike no match", "StringLike", "s3:prefix", ["home/*"], "public/x", D),
    ("StringLike is case-sensitive", "StringLike", "s3:prefix", ["Home/*"], "home/x", D),
    ("StringNotLike match is false", "StringNotLike", "s3:prefix", ["home/*"], "home/x", D),
    ("StringNotLike missing key is true", "StringNotLike", "s3:prefix", ["home/*"], ABSENT, A),
    ("StringEquals with number context value", "StringEquals", "s3:max-keys", "10", 10, A),
    # Numeric
    ("NumericEquals", "NumericEquals", "s3:max-keys", "10", "10", A),
    ("NumericEquals compares numbers not text", "NumericEquals", "s3:max-keys", "10", "10.0", A),
    ("NumericNotEquals", "NumericNotEquals", "s3:max-keys", "10", "11", A),
    ("NumericNotEquals missing key is true", "NumericNotEquals", "s3:max-keys", "10", ABSENT, A),
    ("NumericLessThan true", "NumericLessThan", "s3:max-keys", "10", "9", A),
    ("NumericLessThan false at equality", "NumericLessThan", "s3:max-keys", "10", "10", D),
    ("NumericLessThanEquals at equality", "NumericLessThanEquals", "s3:max-keys", 10, "10", A),
    ("NumericGreaterThan", "NumericGreaterThan", "s3:max-keys", "10", "11", A),
    ("NumericGreaterThanEquals", "NumericGreaterThanEquals", "s3:max-keys", "10", "9", D),
    ("Numeric: non-numeric context value never matches", "NumericLessThan", "s3:max-keys", "10", "ten", D),
    ("Numeric: missing key is false", "NumericLessThan", "s3:max-keys", "10", ABSENT, D),
    # Date
    ("DateLessThan ISO 8601", "DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", "2024-05-01T12:00:00Z", A),
    ("DateGreaterThan ISO 8601", "DateGreaterThan", "aws:CurrentTime", "2030-01-01T00:00:00Z", "2024-05-01T12:00:00Z", D),
    ("DateEquals epoch vs ISO", "DateEquals", "aws:EpochTime", "1704067200", "2024-01-01T00:00:00Z", A),
    ("DateLessThanEquals epoch", "DateLessThanEquals", "aws:EpochTime", "1704067200", 1704067200, A),
    ("DateGreaterThanEquals offset timezone", "DateGreaterThanEquals", "aws:CurrentTime", "2024-01-01T00:00:00Z",
     "2024-01-01T01:00:00+01:00", A),
    ("DateNotEquals", "DateNotEquals", "aws:CurrentTime", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", A),
    ("DateNotEquals missing key is true", "DateNotEquals", "aws:CurrentTime", "2024-01-01T00:00:00Z", ABSENT, A),
    # Bool
    ("Bool true", "Bool", "aws:SecureTransport", "true", True, A),
    ("Bool string context", "Bool", "aws:SecureTransport", "true", "true", A),
    ("Bool false vs true", "Bool", "aws:SecureTransport", "false", "true", D),
    ("Bool missing key is false", "Bool", "aws:MultiFactorAuthPresent", "true", ABSENT, D),
    ("BoolIfExists missing key is true", "BoolIfExists", "aws:MultiFactorAuthPresent", "true", ABSENT, A),
    ("BoolIfExists present false is false", "BoolIfExists", "aws:MultiFactorAuthPresent", "true", False, D),
    # Binary
    ("BinaryEquals base64", "BinaryEquals", "k:bin", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", A),
    ("BinaryEquals bytes context", "BinaryEquals", "k:bin", "QmluYXJ5VmFsdWU=", b"BinaryValue", A),
    ("BinaryEquals mismatch", "BinaryEquals", "k:bin", "QmluYXJ5VmFsdWU=", "b3RoZXI=", D),
    # IP
    ("IpAddress IPv4 CIDR", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "203.0.113.7", A),
    ("IpAddress outside CIDR", "IpAddress", "aws:SourceIp", "203.0.113.0/24", "198.51.100.1", D),
    ("IpAddress single address", "IpAddress", "aws:SourceIp", "203.0.113.7", "203.0.113.7", A),
    ("IpAddress IPv6", "IpAddress", "aws:SourceIp", "2001:db8::/32", "2001:db8::1", A),
    ("IpAddress IPv4 value vs IPv6 CIDR", "IpAddress", "aws:SourceIp", "2001:db8::/32", "203.0.113.7", D),
    ("NotIpAddress inside is false", "NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"], "203.0.113.7", D),
    ("NotIpAddress outside is true", "NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"], "198.51.100.1", A),
    ("NotIpAddress missing key is true", "NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"], ABSENT, A),
    ("IpAddress missing key is false", "IpAddress", "aws:SourceIp", ["203.0.113.0/24"], ABSENT, D),
    ("IpAddressIfExists missing key is true", "IpAddressIfExists", "aws:SourceIp", ["203.0.113.0/24"], ABSENT, A),
    # ARN: segment-wise, case-sensitive, wildcards per segment
    ("ArnLike per segment", "ArnLike", "aws:SourceArn", "arn:aws:sns:*:111122223333:topic-*",
     "arn:aws:sns:us-east-1:111122223333:topic-a", A),
    ("ArnLike: * does not cross the segment's colon", "ArnLike", "aws:SourceArn", "arn:aws:sns:*:111122223333:t",
     "arn:aws:sns:us-east-1:x:111122223333:t", D),
    ("ArnEquals supports wildcards like ArnLike", "ArnEquals", "aws:SourceArn", "arn:aws:s3:::bucket-*",
     "arn:aws:s3:::bucket-1", A),
    ("ArnLike case-sensitive", "ArnLike", "aws:SourceArn", "arn:aws:s3:::Bucket", "arn:aws:s3:::bucket", D),
    ("ArnLike resource part keeps its colons", "ArnLike", "aws:SourceArn", "arn:aws:logs:*:*:log-group:/x:*",
     "arn:aws:logs:us-east-1:111122223333:log-group:/x:log-stream:s", A),
    ("ArnNotLike match is false", "ArnNotLike", "aws:SourceArn", "arn:aws:s3:::b", "arn:aws:s3:::b", D),
    ("ArnNotLike missing key is true", "ArnNotLike", "aws:SourceArn", "arn:aws:s3:::b", ABSENT, A),
    ("ArnNotEquals other is true", "ArnNotEquals", "aws:SourceArn", "arn:aws:s3:::b", "arn:aws:s3:::c", A),
    ("ArnLike non-ARN context never matches", "ArnLike", "aws:SourceArn", "arn:aws:s3:::*", "bucket", D),
    # Null
    ("Null true: key absent", "Null", "aws:TokenIssueTime", "true", ABSENT, A),
    ("Null true: key present", "Null", "aws:TokenIssueTime", "true", "2024-01-01T00:00:00Z", D),
    ("Null false: key present", "Null", "aws:TokenIssueTime", "false", "2024-01-01T00:00:00Z", A),
    ("Null false: key absent", "Null", "aws:TokenIssueTime", "false", ABSENT, D),
    ("Null with a JSON boolean", "Null", "aws:TokenIssueTime", True, ABSENT, A),
    # IfExists
    ("StringEqualsIfExists present mismatch is false", "StringEqualsIfExists", "ec2:InstanceType", "t3.micro", "m5.large", D),
    ("StringEqualsIfExists missing is true", "StringEqualsIfExists", "ec2:InstanceType", "t3.micro", ABSENT, A),
    ("NumericLessThanIfExists missing is true", "NumericLessThanIfExists", "s3:max-keys", "10", ABSENT, A),
    # Set operators
    ("ForAllValues: every value allowed", "ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], ["a", "b"], A),
    ("ForAllValues: one value outside", "ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], ["a", "c"], D),
    ("ForAllValues: missing key is true", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], ABSENT, A),
    ("ForAllValues: empty set is true", "ForAllValues:StringEquals", "aws:TagKeys", ["a"], [], A),
    ("ForAnyValue: one value matches", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ["x", "a"], A),
    ("ForAnyValue: none matches", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ["x", "y"], D),
    ("ForAnyValue: missing key is false", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], ABSENT, D),
    ("ForAnyValue: empty set is false", "ForAnyValue:StringEquals", "aws:TagKeys", ["a"], [], D),
    ("ForAllValues:StringLike", "ForAllValues:StringLike", "aws:TagKeys", ["team-*"], ["team-a", "team-b"], A),
    ("ForAnyValue:StringNotEquals: some value outside", "ForAnyValue:StringNotEquals", "aws:TagKeys", ["a"], ["a", "b"], A),
    ("ForAnyValue:StringNotEquals: all inside", "ForAnyValue:StringNotEquals", "aws:TagKeys", ["a"], ["a"], D),
    ("ForAllValues:StringNotEquals: none inside", "ForAllValues:StringNotEquals", "aws:TagKeys", ["a"], ["b", "c"], A),
    ("ForAllValues:StringNotEquals: one inside", "ForAllValues:StringNotEquals", "aws:TagKeys", ["a"], ["a", "c"], D),
    ("ForAnyValue:StringEqualsIfExists missing is true", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["a"], ABSENT, A),
    ("Multivalued key without qualifier: any value matches", "StringEquals", "aws:TagKeys", ["a"], ["x", "a"], A),
    # Three-valued: unknown keys in analysis mode
    ("unknown key is unknown", "StringEquals", "aws:SourceVpc", "vpc-1", ABSENT, C, True),
    ("unknown key with IfExists is still unknown", "StringEqualsIfExists", "aws:SourceVpc", "vpc-1", ABSENT, C, True),
    ("unknown key for Null is unknown", "Null", "aws:SourceVpc", "true", ABSENT, C, True),
    ("known key in unknown mode is exact", "StringEquals", "aws:SourceVpc", "vpc-1", "vpc-2", D, True),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_condition_operator(case):
    rule, op, key, values, ctx_value, expected, *unknown = case
    assert _decide(op, key, values, ctx_value, unknown=bool(unknown)) == expected, rule


def test_condition_keys_are_case_insensitive():
    """Documented: condition key names are not case-sensitive."""
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                          "Condition": {"StringEquals": {"AWS:SOURCEVPC": "vpc-1"}}}]}
    req = Request(USER, "s3:ListAllMyBuckets", "*", context={"aws:sourceVpc": "vpc-1"})
    assert evaluate(req, identity_policies=[parse_policy(doc)]).decision == A


def test_a_lowered_context_is_read_as_given_and_decides_alike():
    """``LowerKeys``: a context whose keys the caller lower-cased is used as it is (not copied),
    and every request decides as with the same context in AWS's spelling, in both modes."""
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/Team}/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Stage": "prod"}, "Bool": {"aws:SecureTransport": "true"}}},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}}]}
    p = parse_policy(doc)
    spelled = {"aws:PrincipalTag/Team": "data", "aws:ResourceTag/Stage": "prod", "aws:SecureTransport": "true",
               "aws:SourceVpc": "vpc-1"}
    seen = set()
    for drop in (None, *spelled):
        given = {k: v for k, v in spelled.items() if k != drop}
        lowered = LowerKeys({k.lower(): v for k, v in given.items()})
        for mode in ("absent", "unknown"):
            for resource in ("arn:aws:s3:::b/data/k", "arn:aws:s3:::b/ops/k"):
                req = Request(USER, "s3:GetObject", resource, context=lowered, unknown_keys=mode)
                want = evaluate(Request(USER, "s3:GetObject", resource, context=given, unknown_keys=mode),
                                identity_policies=[p])
                assert evaluate(req, identity_policies=[p]) == want, (drop, mode, resource)
                assert req.context_view().values is lowered
                seen.add(want.decision)
    assert seen == {A, D, C}  # the cases reach every answer


def test_a_context_dict_shared_by_requests_is_read_afresh_once_changed():
    """Requests that share one context dict lower-case it once; a key added, removed or given
    another value since is seen by the next request, exactly as a fresh dict would be."""
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "data"}}}]}
    p = parse_policy(doc)
    shared = {"aws:PrincipalTag/Team": "data"}

    def both(mode="absent"):
        got = evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared, unknown_keys=mode),
                       identity_policies=[p])
        fresh = evaluate(Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=dict(shared),
                                 unknown_keys=mode), identity_policies=[p])
        assert got == fresh
        return got.decision

    assert both() == A and both() == A  # the second request reads the first one's lowered copy
    first = Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared).context_view().values
    assert Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared).context_view().values is first
    shared["aws:PrincipalTag/Team"] = "ops"  # another value
    assert both() == D
    shared["AWS:PRINCIPALTAG/TEAM"] = "data"  # the same key in another spelling, added
    del shared["aws:PrincipalTag/Team"]
    assert both() == A
    del shared["AWS:PRINCIPALTAG/TEAM"]  # removed: absent, or unknown in analysis mode
    assert both() == D and both("unknown") == C
    tags = ["owner"]  # a list value changed in place is the same object in the lowered dict
    shared["aws:TagKeys"] = tags
    q = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}}]})
    req = lambda: Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared)  # noqa: E731
    assert evaluate(req(), identity_policies=[q]).decision == D
    tags.append("env")
    assert evaluate(req(), identity_policies=[q]).decision == A


def test_derived_keys_are_worked_out_when_a_condition_reads_them():
    """The keys a request determines (principal account and ARN, user name, resource account,
    kms:CallerAccount) are worked out on first read, from the request's own values; what the
    caller gives wins; setting a default on one request's context leaves another's alone."""
    acct = USER.split(":")[4]
    doc = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {
            "kms:CallerAccount": acct, "aws:PrincipalAccount": acct, "aws:ResourceAccount": acct,
            "aws:PrincipalArn": USER, "aws:username": USER.rsplit("/", 1)[1]}}}]}
    p = parse_policy(doc)
    key = f"arn:aws:kms:us-east-1:{acct}:key/k"
    kw = {"identity_policies": [p], "resource_policy_required": False}  # no key policy in the way
    assert evaluate(Request(USER, "kms:Decrypt", key), **kw).decision == A
    given = {"aws:ResourceAccount": "111111111111"}  # the caller's value wins over the ARN's
    assert evaluate(Request(USER, "kms:Decrypt", key, context=given), **kw).decision == D
    assert evaluate(Request(USER, "kms:Decrypt", key, resource_account="111111111111"), **kw).decision == D
    assert evaluate(Request(USER, "kms:Decrypt", key, unknown_keys="unknown"), **kw).decision == A
    ctx = Request(USER, "kms:Decrypt", key).context_view()
    assert ctx.get("kms:calleraccount") == (0, acct) and "aws:resourceaccount" in ctx.defaults
    assert dict(ctx.defaults)["aws:principalarn"] == USER and len(ctx.defaults) == len(list(ctx.defaults))
    shared = {"aws:SourceVpc": "vpc-1"}
    one = Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared).context_view()
    two = Request(USER, "s3:GetObject", "arn:aws:s3:::b/k", context=shared).context_view()
    one.get_default("aws:sourceip", "10.0.0.1")
    assert one.get("aws:sourceip")[1] == "10.0.0.1" and two.get("aws:sourceip")[1] is None
    assert shared == {"aws:SourceVpc": "vpc-1"}


def test_and_across_operators_and_keys():
    """Documented: multiple operators and keys in one Condition block are ANDed."""
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {
        "StringEquals": {"aws:SourceVpc": "vpc-1", "aws:PrincipalTag/team": "data"},
        "Bool": {"aws:SecureTransport": "true"}}}]}
    p = parse_policy(doc)
    full = {"aws:SourceVpc": "vpc-1", "aws:PrincipalTag/team": "data", "aws:SecureTransport": "true"}
    assert evaluate(Request(USER, "s3:ListAllMyBuckets", "*", context=full), identity_policies=[p]).decision == A
    for drop in full:
        ctx = {k: v for k, v in full.items() if k != drop}
        assert evaluate(Request(USER, "s3:ListAllMyBuckets", "*", context=ctx), identity_policies=[p]).decision == D


def test_operator_names_with_wrong_set_qualifier_are_errors():
    with pytest.raises(PolicyError, match="set operator"):
        parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                     "Condition": {"ForSomeValues:StringEquals": {"k": "v"}}}]})


@pytest.mark.parametrize(
    "operator,value,message",
    [
        ("StringEqualz", "x", "unknown condition operator"),
        ("NumericLessThan", "ten", "expects a number"),
        ("DateLessThan", "yesterday", "expects a date"),
        ("IpAddress", "300.1.1.1/8", "IP address or CIDR"),
        ("BinaryEquals", "not base64!", "base64"),
        ("Null", "maybe", "Null expects"),
        ("StringEquals", {"nested": 1}, "condition value"),
        ("StringEquals", None, "condition value"),
    ],
)
def test_invalid_condition_is_policy_error_naming_the_field(operator, value, message):
    doc = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {"k:x": value}}}]}
    with pytest.raises(PolicyError, match=message) as exc:
        parse_policy(doc)
    assert str(exc.value).startswith("Statement[0].Condition")


def test_variables_in_condition_values():
    """Policy variables work in condition values (Version 2012-10-17 only)."""
    cond = {"StringEquals": {"s3:prefix": "home/${aws:username}"}}
    ctx = {"s3:prefix": "home/alice"}
    assert _decide("StringEquals", "s3:prefix", "home/${aws:username}", "home/alice") == A
    assert _decide("StringEquals", "s3:prefix", "home/${aws:username}", "home/bob") == D
    # Version 2008-10-17: the variable is literal text.
    assert _decide("StringEquals", "s3:prefix", "home/${aws:username}", "home/alice", version="2008-10-17") == D
    assert _decide("StringEquals", "s3:prefix", "home/${aws:username}", "home/${aws:username}",
                   version="2008-10-17") == A
    # Unresolvable variable (no such key): the value matches nothing.
    assert _decide("StringEquals", "s3:prefix", "home/${aws:PrincipalTag/none}", "home/") == D
    # ... unless a default is given.
    assert _decide("StringEquals", "s3:prefix", "home/${aws:PrincipalTag/none, 'guest'}", "home/guest") == A
    # In unknown mode a variable over an unknown key is unknown.
    assert _decide("StringEquals", "s3:prefix", "home/${aws:PrincipalTag/team}", "home/x", unknown=True) == C
    assert cond and ctx


def test_literal_escapes_in_like_patterns():
    """${*} is a literal star: it must not act as a wildcard."""
    assert _decide("StringLike", "s3:prefix", "a${*}b", "a*b") == A
    assert _decide("StringLike", "s3:prefix", "a${*}b", "aXb") == D
    assert _decide("StringLike", "s3:prefix", "a${?}b", "a?b") == A
    assert _decide("StringLike", "s3:prefix", "a${$}b", "a$b") == A


def test_out_of_range_numbers_never_crash():
    """JSON integers beyond float range: a PolicyError in a policy, no match in a context."""
    with pytest.raises(PolicyError, match="expects a number"):
        parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                     "Condition": {"NumericLessThan": {"k:n": 10**400}}}]})
    with pytest.raises(PolicyError, match="expects a date"):
        parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                                     "Condition": {"DateLessThan": {"k:d": "9" * 400}}}]})
    assert _decide("NumericLessThan", "k:n", "5", 10**400) == D
    assert _decide("DateLessThan", "k:d", "5", 10**400) == D
