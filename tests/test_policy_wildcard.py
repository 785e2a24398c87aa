"""The wildcard matcher and ARN parser.

Documented: ``*`` matches any run of characters and ``?`` any single character, both across
``:`` and ``/``; action matching is case-insensitive, resource matching case-sensitive. The
matcher must be linear: no regular-expression backtracking.
"""

from __future__ import annotations

import gc
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from iamreach.graph.policy import compile_glob, match_wildcard, parse_arn
from iamreach.graph.policy.wildcard import compile_tokens


def _reference(pattern: str, text: str) -> bool:
    """fnmatch-style dynamic programming over ``*`` and ``?`` only (no character classes)."""
    prev = [True] + [False] * len(text)
    for c in pattern:
        cur = [False] * (len(text) + 1)
        if c == "*":
            acc = False
            for j in range(len(text) + 1):
                acc = acc or prev[j]
                cur[j] = acc
        else:
            for j in range(1, len(text) + 1):
                cur[j] = prev[j - 1] and (c == "?" or c == text[j - 1])
        prev = cur
    return prev[-1]


@settings(max_examples=1500, deadline=None)
@given(pattern=hs.text(alphabet="ab*?:/", max_size=10), text=hs.text(alphabet="ab:/", max_size=12))
def test_agrees_with_reference_on_small_inputs(pattern, text):
    assert match_wildcard(pattern, text) == _reference(pattern, text)


@settings(max_examples=300, deadline=None)
@given(pattern=hs.text(alphabet="ab*??????", min_size=30, max_size=70), text=hs.text(alphabet="ab", min_size=30, max_size=90))
def test_agrees_with_reference_on_long_question_mark_segments(pattern, text):
    assert match_wildcard(pattern, text) == _reference(pattern, text)


@pytest.mark.parametrize(
    "pattern,text,expected",
    [
        ("*?" * 50_000, "x" * 100_000, True),
        ("*a" * 50_000, "a" * 99_999 + "b", False),  # the text does not end in "a"
        ("*" + "a?" * 5_000 + "b*", "a" * 100_000, False),  # no "b" in the text
        ("?" * 100_000, "y" * 100_000, True),
        ("*" + "ab" * 25_000 + "*", "ab" * 49_999 + "a", True),
    ],
    ids=["star-question-100k", "star-a-100k", "long-question-segment", "all-question", "long-literal"],
)
def test_linear_time_on_huge_inputs(pattern, text, expected):
    # A hang guard, not a timing goal (timings live in benchmarks/bench_engine.py): milliseconds
    # in practice, hours for a backtracking matcher; 20 s cannot flake on a loaded machine.
    gc.disable()  # a collection of the session's heap is not the matcher's time
    try:
        start = time.process_time()
        got = match_wildcard(pattern, text)
        elapsed = time.process_time() - start
    finally:
        gc.enable()
    assert got is expected
    assert elapsed < 20.0, elapsed


def test_documented_examples():
    assert match_wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x")
    assert match_wildcard("arn:aws:s3:::b*", "arn:aws:s3:::b/k:x")  # * crosses / and :
    assert match_wildcard("arn:aws:iam::?????????????:root", "arn:aws:iam::1111222233334:root")
    assert not match_wildcard("arn:aws:s3:::B/*", "arn:aws:s3:::b/k")
    assert match_wildcard("S3:Get*", "s3:getobject", case_sensitive=False)
    assert match_wildcard("", "") and not match_wildcard("", "a") and match_wildcard("*", "")
    assert compile_glob("abc").is_literal and compile_glob("***").matches_everything
    assert compile_glob("abc*def").literal_prefix == "abc"


def test_literal_tokens_never_act_as_wildcards():
    g = compile_tokens([(False, "a*"), (True, "*?"), (False, "?")])
    assert g.match("aXX*?Z") and not g.match("aXXyyZ")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("arn:aws:s3:::b/k", ("aws", "s3", "", "", "b/k")),
        ("arn:aws:iam::111122223333:role/a/b", ("aws", "iam", "", "111122223333", "role/a/b")),
        ("arn:aws:logs:us-east-1:1:log-group:/x:*", ("aws", "logs", "us-east-1", "1", "log-group:/x:*")),
        ("arn:aws-cn:ec2:cn-north-1:1:instance/i-1", ("aws-cn", "ec2", "cn-north-1", "1", "instance/i-1")),
    ],
)
def test_parse_arn(text, expected):
    assert tuple(parse_arn(text)) == expected


@pytest.mark.parametrize("text", ["", "arn:aws:s3", "arn::s3:::b", "arn:aws::::x", "s3://b", None, 5])
def test_parse_arn_rejects(text):
    assert parse_arn(text) is None
