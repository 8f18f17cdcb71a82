"""python -m kd site without a browser: what the folder holds, where its figures come from, bad input."""

from __future__ import annotations

import json

import pytest

from kd import checkpoint
from kd.cli.main import main
from kd.lab import widgets
from kd.site.builder import RUNTIME_FILES, STATIC, build_site, runtime_dir

needs_runtime = pytest.mark.skipif(not runtime_dir().is_dir(), reason="needs onnxruntime-web (run `make npm`)")


@needs_runtime
def test_site_holds_everything_it_loads(tiny_checkpoints, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    (out / "README.md").write_text("a Space's own file")
    result = build_site(out, tiny_checkpoints["teacher"].parent, lab_url="https://example.org/lab")
    assert (out / "README.md").read_text() == "a Space's own file"  # left alone
    for name in ("index.html", "app.js", "preprocess.js", "style.css", "models/teacher.onnx", "models/student.onnx"):
        assert (out / name).is_file(), name
    assert sorted(path.name for path in (out / "ort").iterdir()) == sorted(RUNTIME_FILES)
    html = (out / "index.html").read_text()
    assert all(f'src="{script}"' in html for script in ("ort/ort.wasm.min.js", "preprocess.js", "app.js"))
    assert "http://" not in html and "https://" not in html  # nothing fetched from elsewhere
    site = json.loads((out / "site.json").read_text())
    assert site["lab_url"] == "https://example.org/lab" and set(site["models"]) == {"teacher", "student"}
    assert site["widgets"] == widgets.static_page()  # the pad, the pen and the slider app.js builds
    for name, summary in site["models"].items():
        metrics = checkpoint.read_metadata(tiny_checkpoints[name])["metrics"]
        assert summary["accuracy"] == metrics["accuracy"] and summary["parameters"] == metrics["parameters"]
        assert summary["per_class_f1"] == [row["f1"] for row in metrics["per_class"]]
    assert all(gap <= 1e-5 for gap in result["parity_max_abs_diff"].values())
    assert '<span id="lab-line" hidden>' in html  # shown by app.js only when site.json has a lab_url


def test_the_page_takes_its_pad_and_slider_from_the_widgets_not_from_its_own_numbers():
    page = widgets.static_page()  # what build_site writes as site.json's "widgets"
    assert page["canvas_pixels"] == widgets.CANVAS_PIXELS and page["pen_width"] == widgets.PEN_WIDTH
    span = widgets.DRAW_TEMPERATURE
    assert page["temperature"] == {"low": span.low, "high": span.high, "default": span.default, "step": span.step}
    html, script = ((STATIC / name).read_text() for name in ("index.html", "app.js"))
    assert 'id="pad" aria-label' in html and 'type="range">' in html  # no size, range or default typed there
    assert str(widgets.CANVAS_PIXELS) not in html + script and f"= {widgets.PEN_WIDTH}" not in script
    assert "applyWidgets(site.widgets)" in script


@needs_runtime
def test_without_a_lab_url_the_page_links_nowhere(tiny_checkpoints, tmp_path, capsys):
    out = tmp_path / "site"
    code = main(["site", "--out", str(out), "--checkpoints", str(tiny_checkpoints["teacher"].parent), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["lab_url"] is None
    assert json.loads((out / "site.json").read_text())["lab_url"] is None
    assert "YOUR-USER" not in "".join(path.read_text() for path in out.glob("*.*"))  # no placeholder anywhere


def test_a_lab_url_that_is_not_a_web_address_is_refused(tiny_checkpoints, tmp_path, capsys):
    folder = str(tiny_checkpoints["teacher"].parent)
    code = main(["site", "--out", str(tmp_path / "site"), "--checkpoints", folder, "--lab-url", "javascript:alert(1)"])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("error: --lab-url must be an http")
    assert not (tmp_path / "site").exists()


def test_site_without_the_runtime_is_a_one_line_error(tiny_checkpoints, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KD_NODE_MODULES", str(tmp_path / "nothing-here"))
    code = main(["site", "--out", str(tmp_path / "site"), "--checkpoints", str(tiny_checkpoints["teacher"].parent)])
    out, err = capsys.readouterr()
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: onnxruntime-web is not installed") and "make npm" in err
    assert not (tmp_path / "site").exists()
