"""The README's results table (kd/cli/report.py), measured from checkpoints, and its markers."""

import json
import re
import shutil

import pytest

from kd.checkpoint import load
from kd.cli import report
from kd.cli.report import BEGIN, END, results_table, write_into_readme
from kd.infer.bench import benchmark
from kd.significance import compare_on_test_set


def test_table_from_checkpoints(tiny_checkpoints, mnist, tmp_path, monkeypatch):
    # the table's layout is under test, not the timings: a few repeats keep this quick on a busy machine
    monkeypatch.setattr(report, "benchmark", lambda *args, **kwargs: benchmark(*args, **{**kwargs, "repeats": 5}))
    for name, path in tiny_checkpoints.items():
        shutil.copy(path, tmp_path / f"{name}.safetensors")
        shutil.copy(path.with_suffix(".json"), tmp_path / f"{name}.json")
    result = results_table(tmp_path)
    # the README's table: seven columns at most, and a link to the rest
    narrow = result["markdown"].splitlines()
    assert narrow[0].startswith("| model | parameters") and len(narrow[0].split("|")) - 2 <= 7
    assert [line.split("|")[1].strip() for line in narrow[2:5]] == [
        "Teacher",
        "Scratch student (alpha = 0)",
        "Distilled student",
    ]
    assert all(len(line.split("|")) == len(narrow[0].split("|")) for line in narrow[1:5])
    assert "[the full table](checkpoints/results.md)" in result["markdown"]
    assert result["full_table"] == str(tmp_path / "results.md")

    # the full table, beside the checkpoints: every column, per-class F1 and the notes
    lines = (tmp_path / "results.md").read_text().splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("| model | parameters"))
    lines = lines[header:]
    assert "1.0x / 1.0x / 1.0x" in lines[2]  # the teacher against itself
    assert "| ONNX Runtime latency, batch 1 (" in lines[0] and lines[0].endswith(
        "| ONNX Runtime throughput, batch 1000 |"
    )
    assert all(len(line.split("|")) == len(lines[0].split("|")) for line in lines[1:5])  # every row fills the columns
    assert re.search(r"\| [\d.]+ / [\d.]+ ms \| [\d,]+ img/s \|$", lines[4])  # the student's ONNX Runtime cells
    assert any("the ONNX Runtime student answers" in line for line in lines)
    assert any(line.startswith("Latency is the median") and "280x280 drawing" in line for line in lines)
    stored = json.loads((tmp_path / "results.json").read_text())  # one measurement behind all three
    assert stored["markdown"] == result["markdown"]
    assert (tmp_path / "results.md").read_text() == stored["full_markdown"] + "\n"

    # under the table, McNemar's test of distilled vs scratch and distilled vs teacher, on the same test digits
    models = {name: load(path) for name, path in tiny_checkpoints.items()}
    for a, b, label in (("student", "scratch", "scratch"), ("student", "teacher", "teacher")):
        expected = compare_on_test_set(models[a], models[b], mnist).describe("distilled", label)
        assert f"- distilled vs {label}: {expected}." in lines and f"- distilled vs {label}: {expected}." in narrow
    assert [(row["a"], row["b"]) for row in stored["mcnemar"]] == [("student", "scratch"), ("student", "teacher")]


def test_write_into_readme(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    write_into_readme(readme, "| new |")
    assert readme.read_text() == f"# Title\n\n{BEGIN}\n| new |\n{END}\n\nafter\n"
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="markers"):
        write_into_readme(readme, "x")
