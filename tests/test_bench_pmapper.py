"""``benchmarks/pmapper_compare.py`` reads both tools' answers the same way (no PMapper run here:
its output is given as PMapper prints it)."""

from __future__ import annotations

import json

ACCT = "111122223333"

PMAPPER_OUT = """\
role/Admin IS authorized to call action s3:GetObject for resource *

user/alice CAN call action s3:GetObject for resource * THRU role/Admin
   user/alice can access via sts:AssumeRole role/Admin
   role/Admin IS authorized to call action s3:GetObject for resource *

user/bob CAN BECOME authorized to call action s3:GetObject for resource * THRU its admin privileges
"""


def test_answers_split_iamreach_allowed_and_conditional_against_pmapper(benchmark_script):
    pc = benchmark_script("pmapper_compare.py", "bench_pmapper_compare")
    figures = {"load_s": 0.1, "build_s": 1.0, "who_can_s": 0.1, "nodes": 3, "edges": 2, "principals": [
        [f"arn:aws:iam::{ACCT}:role/Admin", "allowed"],
        [f"arn:aws:iam::{ACCT}:user/alice", "conditional"],
        [f"arn:aws:iam::{ACCT}:role/path/app", "conditional"],
        [f"arn:aws:iam::{ACCT}:root", "allowed"],  # the account administrator: no PMapper name
    ]}
    res = {"pmapper_query": {"stdout": PMAPPER_OUT}, "iamreach_build_who_can": {"stdout": json.dumps(figures)}}
    a = pc._answers(res)
    assert (a["pmapper_direct"], a["pmapper_via_others"]) == (1, 2)
    assert (a["iamreach_direct"], a["iamreach_allowed"], a["iamreach_conditional"]) == (3, 1, 2)
    assert a["allowed_equals_pmapper_direct"] is True
    assert (a["conditional_in_pmapper_via"], a["conditional_not_in_pmapper"]) == (1, 1)
    assert a["only_iamreach"] == ["role/app", "user/alice"] and a["only_pmapper"] == []
