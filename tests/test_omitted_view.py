"""The lab's "Hinton's missing 3": the Leave-out-digits setting, the preset, the card's part, the offset control and
Draw's corrected answers (kd/lab/omitted_view.py, kd.lab.service.Lab)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from kd import checkpoint, omitted
from kd.lab import widgets
from kd.lab.limits import Limits
from kd.lab.omitted_view import omitted_digits
from kd.predict import logits
from kd.recipes import MISSING_THREE


@pytest.mark.parametrize(
    ("values", "digits"), [(None, ()), ((), ()), ("3", (3,)), (["8", "3", "3"], (3, 8)), ([3], (3,)), ("3, 8", (3, 8))]
)
def test_the_digits_left_out_are_read_from_what_any_widget_or_client_sends(values, digits):
    assert omitted_digits(values) == digits


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (list("0123456789"), "at most nine digits"),
        ("0 1 2 3 4 5 6 7 8 9", "at most nine digits"),
        (["3.5"], "digits from 0 to 9"),
        ([10], "digits from 0 to 9"),
        ([-1], "digits from 0 to 9"),
        (["three"], "digits from 0 to 9"),
        ([True], "digits from 0 to 9"),
        (3, "digits from 0 to 9"),
    ],
)
def test_run_settings_refuse_all_ten_digits_and_bad_values_in_words(lab, values, reason):
    with pytest.raises(ValueError, match=reason):
        lab.run_settings(4, 0.9, 1, 200, 0, "none", values)


def test_the_preset_is_the_recipe_within_the_servers_caps(lab):
    wide = widgets.missing_three(Limits())  # the default caps hold the whole recipe
    settings = lab.run_settings(**{**wide.values, "epochs": 1}, seed=0)
    assert dataclasses.replace(settings, epochs=MISSING_THREE.epochs) == MISSING_THREE
    assert wide.values["epochs"] == MISSING_THREE.epochs and wide.values["omit_digits"] == ["3"]
    assert widgets.missing_three(lab.limits).values["epochs"] == 2  # this lab allows 2 epochs: the slider's top
    assert lab.run_settings(**widgets.missing_three(lab.limits).values, seed=0).omit_digits == (3,)


@pytest.mark.slow
def test_the_preset_on_a_tiny_run_reads_more_3s_after_the_offset_and_the_lab_shows_why(lab, small_mnist):
    values = {**widgets.missing_three(lab.limits).values, "images": 1000}
    run = lab.launch("visitor", lab.run_settings(**values, seed=0))
    lab.runs.wait(run.id, timeout=300)
    assert run.status == "done", run.error
    card = lab.result_card(run)
    part = card.omitted
    assert part.digits == (3,) and part.offset > 0 and "never saw a 3" in part.headline
    mine, twin, teacher = part.rows
    assert mine.corrected["3"] > mine.as_trained["3"]  # the offset chosen on validation reads more test 3s
    assert twin.as_trained["3"] < 0.05 and "never saw them either" in twin.name  # it never learnt a 3
    assert teacher.corrected is None and teacher.as_trained["3"] > 0.5
    assert set(part.table()) == {mine.name, twin.name, teacher.name}

    view = lab.omitted_view(run.id)  # the lab's own forward pass gives the pipeline's stored figures
    record = run.metadata["omitted"]["test"]
    assert view.offset == view.chosen == part.offset and view.slider.default == part.offset
    assert view.errors == view.errors_chosen == record["after"]["errors"]
    assert view.errors_as_trained == record["before"]["errors"]
    assert view.recall_at_offset["3"] == pytest.approx(record["after"]["recall"]["3"])
    plain = lab.omitted_view(run.id, 0)
    assert plain.recall_at_offset["3"] == pytest.approx(record["before"]["recall"]["3"])
    assert plain.per_class_at_offset == view.per_class_as_trained and len(view.curve.errors) == len(omitted.OFFSETS)
    assert "test errors" in lab.omitted_view(run.id, 20).caption
    for bad in (-1, 21, "lots", float("nan")):
        with pytest.raises(ValueError, match="offset must be a number from 0 to 20"):
            lab.omitted_view(run.id, bad)
    assert lab.omitted_view("student") is None and lab.omitted_view("/etc/passwd") is None

    entry = lab.entry(run.id)  # Draw: the run answers corrected, and its label says so
    assert entry in lab.models(teacher=False) and "answers corrected (+" in entry.label
    digit = small_mnist.test_images[0].numpy().astype(np.float32) / 255.0
    expected = logits(lab.model(entry), torch.from_numpy(digit)[None])[0] + omitted.offset_vector((3,), part.offset)
    answer = lab.answers(entry, digit, (1.0,))[1.0]
    assert np.abs(answer - torch.softmax(expected, 0).numpy()).max() < 1e-5
    assert checkpoint.read_metadata(run.path)["omitted"]["offset"] == part.offset
