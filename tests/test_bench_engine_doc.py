"""``benchmarks/bench_engine.py`` records its runs in docs/performance.md without losing what is there."""

from __future__ import annotations


def _bench(benchmark_script, tmp_path, monkeypatch):
    bench = benchmark_script("bench_engine.py", "bench_engine_doc")
    doc = tmp_path / "performance.md"
    monkeypatch.setattr(bench, "DOC", doc)
    return bench, doc


def test_a_run_goes_first_and_the_text_above_the_runs_stays(tmp_path, monkeypatch, benchmark_script):
    bench, doc = _bench(benchmark_script, tmp_path, monkeypatch)
    doc.write_text(
        "# Performance\n\n## Collection\n\ncollection text\n\n"
        f"{bench.SECTION}\n\nThe intro, as the document has it.\n\nA paragraph written by hand after it.\n\n"
        "### 2026-01-01 — 1 evaluations/s (zipf action mix)\n\n- an old run\n\n"
        "## Organization scale\n\nscale text\n",
        encoding="utf-8",
    )
    bench.update_doc("### 2026-02-02 — 2 evaluations/s (zipf action mix)\n\n- the new run\n")
    text = doc.read_text(encoding="utf-8")
    assert "A paragraph written by hand after it." in text  # an earlier writer dropped it
    assert text.index("A paragraph written by hand") < text.index("- the new run") < text.index("- an old run")
    assert text.index("- an old run") < text.index("## Organization scale") and "scale text" in text
    assert "collection text" in text and text.count(bench.SECTION) == 1
    assert "the document has it" in text and [p.name for p in tmp_path.iterdir()] == ["performance.md"]


def test_a_document_without_the_section_gets_the_intro(tmp_path, monkeypatch, benchmark_script):
    bench, doc = _bench(benchmark_script, tmp_path, monkeypatch)
    doc.write_text("# Performance\n\nother text\n", encoding="utf-8")
    bench.update_doc("### run\n\n- first\n")
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Performance\n\nother text\n\n" + bench.SECTION)
    assert text.endswith("### run\n\n- first\n")


def test_a_section_without_runs_keeps_its_text(tmp_path, monkeypatch, benchmark_script):
    bench, doc = _bench(benchmark_script, tmp_path, monkeypatch)
    doc.write_text(f"# Performance\n\n{bench.SECTION}\n\nonly an intro\n\n## Next\n\nnext text\n", encoding="utf-8")
    bench.update_doc("### run\n\n- first\n")
    text = doc.read_text(encoding="utf-8")
    assert text.index("only an intro") < text.index("- first") < text.index("## Next")
