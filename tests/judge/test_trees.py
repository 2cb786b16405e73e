"""The combiner's trees are stored as plain arrays; they must predict exactly what sklearn fitted."""

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from conscience.judge.classifier import Trees


def test_exported_trees_match_sklearn_probabilities():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = ((x[:, 0] > 0) & (x[:, 1] < 0.5) | (x[:, 2] > 1.2)).astype(int)
    model = GradientBoostingClassifier(n_estimators=40, max_depth=3, learning_rate=0.1, random_state=0).fit(x, y)
    trees = Trees.from_json(Trees.from_sklearn(model).to_json())
    probe = rng.normal(size=(200, 5))
    np.testing.assert_allclose(trees.prob(probe), model.predict_proba(probe)[:, 1], atol=1e-6)
