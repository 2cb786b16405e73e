"""The request classifier's shipped weights are reproducible from its training data (real MiniLM, ~400 texts)."""

import json

import numpy as np

from conscience.guard.classifier import load_request_classifier, train_request_classifier, training_data


def test_training_data_is_what_the_shipped_weights_record():
    _, labels, counts = training_data()
    assert counts == load_request_classifier().provenance["data"] and len(labels) == sum(counts.values())


def test_retraining_reproduces_the_shipped_weights(tmp_path):
    provenance = train_request_classifier(tmp_path / "weights.json")
    shipped = load_request_classifier()
    retrained = json.loads((tmp_path / "weights.json").read_text())
    assert provenance["cv_5fold"] == shipped.provenance["cv_5fold"]
    assert np.allclose(retrained["coef"], shipped.coef, atol=1e-4) and abs(retrained["intercept"] - shipped.intercept) < 1e-4
