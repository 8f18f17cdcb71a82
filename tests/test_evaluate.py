import numpy as np
import pytest
from sklearn.metrics import classification_report as sklearn_report

from kd.checkpoint import load
from kd.evaluate import calibration, classification_report, disagreements, evaluate


def test_report_matches_scikit_learn_on_a_known_case():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    predictions = np.where(rng.random(500) < 0.8, labels, rng.integers(0, 10, 500))
    ours = classification_report(predictions, labels)
    reference = sklearn_report(labels, predictions, output_dict=True, zero_division=0)
    for row in ours["per_class"]:
        theirs = reference[str(row["class"])]
        assert row["precision"] == pytest.approx(theirs["precision"])
        assert row["recall"] == pytest.approx(theirs["recall"])
        assert row["f1"] == pytest.approx(theirs["f1-score"])
        assert row["support"] == theirs["support"]
    assert ours["macro"]["f1"] == pytest.approx(reference["macro avg"]["f1-score"])
    assert ours["weighted"]["recall"] == pytest.approx(reference["weighted avg"]["recall"])
    confusion = np.array(ours["confusion"])
    assert confusion.sum() == 500 and np.trace(confusion) == (predictions == labels).sum()


def test_expected_calibration_error_by_hand():
    # Two bins used: confidence 0.95 (2 samples, 1 right) and 0.55 (2 samples, both right).
    probabilities = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.45, 0.55]])
    probabilities = np.pad(probabilities, ((0, 0), (0, 8)))
    labels = np.array([0, 1, 0, 1])
    result = calibration(probabilities, labels, bins=10)
    expected = 0.5 * abs(0.95 - 0.5) + 0.5 * abs(0.55 - 1.0)
    assert result["ece"] == pytest.approx(expected)
    assert [b["count"] for b in result["bins"]] == [2, 2]


def test_perfectly_calibrated_is_zero():
    probabilities = np.eye(10)[[1, 2, 3]]
    assert calibration(probabilities, np.array([1, 2, 3]))["ece"] == pytest.approx(0.0)


def test_evaluate_checkpoint(mnist, tiny_checkpoints):
    teacher, student = load(tiny_checkpoints["teacher"]), load(tiny_checkpoints["student"])
    result = evaluate(student, mnist, reference=teacher, checkpoint_path=tiny_checkpoints["student"])
    assert result["errors"] == round((1 - result["accuracy"]) * 10_000)
    assert sum(row["support"] for row in result["per_class"]) == 10_000
    assert 0 <= result["agreement"] <= 1 and 0 <= result["ece"] <= 1
    assert result["size_bytes"] == tiny_checkpoints["student"].stat().st_size
    assert evaluate(teacher, mnist, reference=teacher)["agreement"] == 1.0


def test_disagreements(mnist, tiny_checkpoints):
    teacher, student = load(tiny_checkpoints["teacher"]), load(tiny_checkpoints["student"])
    rows = disagreements(teacher, student, mnist, limit=10)
    assert 0 < len(rows) <= 10
    for row in rows:
        both_wrong = row["prediction_a"] != row["label"] and row["prediction_b"] != row["label"]
        assert row["prediction_a"] != row["prediction_b"] or both_wrong
    assert disagreements(teacher, teacher, mnist, limit=5) == [
        row for row in disagreements(teacher, teacher, mnist, limit=5) if row["prediction_a"] != row["label"]
    ]
