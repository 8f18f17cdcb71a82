"""The limits of a shared server (kd/lab/limits.py): read from KD_* variables, never broken by a bad value."""

import dataclasses

import pytest

from kd.lab.limits import Limits, RateLimit


def test_defaults_without_variables():
    limits = Limits.from_env({})
    assert limits == Limits()
    assert (limits.max_epochs, limits.max_images, limits.runs_per_visitor, limits.allow_delete_any) == (
        5,
        10_000,
        1,
        False,
    )
    assert limits.max_saved_bytes == limits.max_saved_megabytes * 1_000_000


def test_every_field_has_its_variable():
    names = {f"KD_{field.name.upper()}" for field in dataclasses.fields(Limits)}
    assert {"KD_MAX_EPOCHS", "KD_MAX_IMAGES", "KD_MAX_QUEUED", "KD_MAX_SWEEP_CELLS", "KD_ALLOW_DELETE_ANY"} <= names
    environ = {"KD_MAX_EPOCHS": "20", "KD_MAX_IMAGES": "50000", "KD_RUNS_PER_VISITOR": "2", "KD_ALLOW_DELETE_ANY": "1"}
    limits = Limits.from_env(environ)
    assert (limits.max_epochs, limits.max_images, limits.runs_per_visitor, limits.allow_delete_any) == (
        20,
        50_000,
        2,
        True,
    )


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("KD_MAX_EPOCHS", "lots", 5),  # not a number: the default
        ("KD_MAX_EPOCHS", "1000000", 100),  # clamped to the top of its range
        ("KD_MAX_IMAGES", "-5", 200),  # clamped to the bottom
        ("KD_MAX_DRAWING_PIXELS", "1e12", 1_500_000),
        ("KD_ALLOW_DELETE_ANY", "perhaps", False),
    ],
)
def test_a_bad_value_means_the_default_or_a_clamp_with_a_warning(caplog, name, value, expected):
    field = name.removeprefix("KD_").lower()
    with caplog.at_level("WARNING", logger="kd.lab.limits"):
        limits = Limits.from_env({name: value})
    assert getattr(limits, field) == expected
    assert any(name in record.message for record in caplog.records)


def test_rate_limit_counts_one_event_per_interval():
    now = [100.0]
    gate = RateLimit(60, clock=lambda: now[0])
    assert gate.acquire() == 0.0
    now[0] += 10
    assert gate.acquire() == pytest.approx(50.0)
    now[0] += 50
    assert gate.acquire() == 0.0


def test_every_limit_is_documented_for_whoever_runs_a_public_server():
    from pathlib import Path

    public = (Path(__file__).resolve().parents[1] / "docs" / "public.md").read_text()
    missing = [
        name for field in dataclasses.fields(Limits) if f"`{(name := 'KD_' + field.name.upper())}`" not in public
    ]
    assert not missing, f"not in docs/public.md's settings table: {missing}"
