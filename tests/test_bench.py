from kd.bench import benchmark
from kd.models import PRESETS, ConvNet


def test_rows_for_every_model_and_batch_size():
    models = {"teacher": ConvNet(PRESETS["teacher"]).eval(), "student": ConvNet(PRESETS["student"]).eval()}
    rows = benchmark(models, batch_sizes=(1, 16), repeats=5, warmup=1)
    assert [(r["model"], r["batch_size"]) for r in rows] == [
        ("teacher", 1),
        ("student", 1),
        ("teacher", 16),
        ("student", 16),
    ]
    for row in rows:
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["throughput"] == row["batch_size"] / (row["p50_ms"] / 1e3)
    assert models["teacher"].training is False  # benchmarked copies, the models themselves untouched
