"""The benchmark script runs end to end on small sizes (its figures are read, not asserted)."""

from registry.tools import bench
from tests.test_cli import _evaluation_set


def test_image_benchmark_runs_with_every_baseline(capsys):
    assert bench.main(["images", "--sizes", "3000", "--queries", "6"]) == 0
    out = capsys.readouterr().out
    assert "3,000 images" in out and "recall 1.000" in out
    for baseline in ("numpy popcount", "faiss IndexBinaryFlat", "pybktree", "imagehash"):
        assert baseline in out
    assert "375 filings live" in out


def test_text_benchmarks_run_in_both_scripts(capsys):
    assert bench.main(["texts", "--sizes", "300", "--queries", "4"]) == 0
    assert bench.main(["texts", "--sizes", "300", "--queries", "4", "--script", "zh"]) == 0
    out = capsys.readouterr().out
    assert out.count("300 texts") == 2 and "rapidfuzz" in out
    assert out.count("37 filings live") == 2


def test_ablation_runs_on_a_labelled_set(tmp_path, capsys):
    assert bench.main(["ablation", str(_evaluation_set(tmp_path / "set"))]) == 0
    out = capsys.readouterr().out
    assert "+ key-point verification (ORB)" in out
