"""``benchmarks/run.py``: a run that measures some stages of a size keeps the others from the last run."""

from __future__ import annotations

import json


def _entry(date, commit, **stages):
    return {"accounts": 1, "principals": 500, "resources": 500, "measured": date, "commit": commit, **stages}


def test_stages_not_measured_again_are_kept_with_when_they_were(tmp_path, monkeypatch, benchmark_script):
    run = benchmark_script("run.py", "bench_run")
    monkeypatch.setattr(run, "OUT", tmp_path)
    build = {"seconds": 4.0, "cpu_s": 4.0, "peak_rss_mib": 100.0, "nodes": 10, "edges": 20}
    old = {"seed": 1, "sizes": {"S": _entry("2026-12-07T00:10Z", "aaa", build=build),
                                "M": _entry("2026-12-07T00:11Z", "aaa", build=build)}}
    (tmp_path / "results.json").write_text(json.dumps(old))
    diff = {"seconds": 6.0, "cpu_s": 6.0, "peak_rss_mib": 120.0}
    new = {"seed": 1, "date": "2026-12-07T01:00Z", "machine": {"commit": "bbb"},
           "sizes": {"S": _entry("2026-12-07T01:00Z", "bbb", diff=diff)}}
    merged = run._merge_previous(new)
    s = merged["sizes"]["S"]
    assert s["build"] == build and s["diff"] == diff
    assert s["earlier"] == {"build": "2026-12-07T00:10Z at commit aaa"}
    assert s["diff_over_build"] == 1.5
    assert merged["sizes"]["M"]["build"] == build  # a size this run did not measure at all
    # a second partial run keeps the first run's date for the stage it carries again
    (tmp_path / "results.json").write_text(json.dumps(merged))
    again = run._merge_previous({"seed": 1, "date": "2026-12-07T02:00Z", "machine": {"commit": "ccc"},
                                 "sizes": {"S": _entry("2026-12-07T02:00Z", "ccc", paths={"seconds": 1.0})}})
    assert again["sizes"]["S"]["earlier"]["build"] == "2026-12-07T00:10Z at commit aaa"
    assert again["sizes"]["S"]["earlier"]["diff"] == "2026-12-07T01:00Z at commit bbb"
