"""The ``outputs`` member: a standardized ridge on the predictions of every candidate source."""

import numpy as np
import pandas as pd
import pytest

from skmdl.transfer import PretrainedFeaturizer, TransferClassifier, TransferRegressor
from skmdl.transfer.saving import load_model, save_model
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def linear_in_outputs(tiny_library):
    """A target that is a linear function of the four toy networks' own predictions."""
    X, _ = synthetic_task(n=150, seed=21)
    ids = ["toy_a-000", "toy_a-001", "toy_b-000", "toy_b-001"]
    S = PretrainedFeaturizer(models=ids, library=str(tiny_library),
                             layers="output").fit_transform(X)
    S = np.asarray(S, dtype=float)
    S = (S - S.mean(0)) / S.std(0)
    y = S @ np.array([2.0, -1.0, 0.5, 1.5]) + np.random.default_rng(3).normal(0, 0.01, 150)
    return pd.Series(X), y


def _members(model):
    return model.members_.set_index("member")


def test_outputs_member_uses_every_candidate_and_wins_on_a_linear_target(tiny_library,
                                                                        linear_in_outputs):
    X, y = linear_in_outputs
    model = TransferRegressor(library=str(tiny_library), n_sources=2, random_state=0).fit(X, y)
    m = _members(model)
    assert {"stack", "outputs"} <= set(m.index)
    # the ridge on all four outputs beats the trees on descriptors by a wide margin
    assert m.loc["outputs", "oof_mae"] < 0.5 * m.loc["direct", "oof_mae"]
    assert m.loc["outputs", "weight"] > 0.5
    outputs = next(s for s in model.kept_members_ if s["kind"] == "outputs")
    assert len(outputs["uses"]) == 4  # every candidate, not just the shortlisted ones
    assert len(model.sources_) == 2
    assert sorted(model.source_models_.ids) == sorted(outputs["uses"])  # kept for predict
    assert np.abs(model.predict(X) - y).mean() < 0.2 * np.std(y)


@pytest.mark.parametrize("stack, expected", [("trees", {"stack"}), ("linear", {"outputs"}),
                                             (False, set())])
def test_stack_parameter_picks_the_stacking_members(tiny_library, linear_in_outputs, stack,
                                                    expected):
    X, y = linear_in_outputs
    model = TransferRegressor(library=str(tiny_library), n_sources=2, stack=stack,
                              calibration_cv=3, random_state=0).fit(X, y)
    assert set(_members(model).index) & {"stack", "outputs"} == expected


def test_classifier_outputs_member_is_a_logistic_regression(tiny_library, linear_in_outputs):
    X, y = linear_in_outputs
    model = TransferClassifier(library=str(tiny_library), n_sources=2, calibration_cv=3,
                               random_state=0).fit(X, (y > np.median(y)).astype(int))
    m = _members(model)
    assert {"stack", "outputs"} <= set(m.index)
    # a class boundary linear in the outputs: the logistic member beats the trees
    assert m.loc["outputs", "oof_log_loss"] < m.loc["direct", "oof_log_loss"]
    assert m.loc["outputs", "weight"] > 0
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(1), 1)


@pytest.mark.parametrize("cls", [TransferRegressor, TransferClassifier])
def test_outputs_member_saves_and_loads(tiny_library, linear_in_outputs, tmp_path, cls):
    X, y = linear_in_outputs
    if cls is TransferClassifier:
        y = (y > np.median(y)).astype(int)
    model = cls(library=str(tiny_library), n_sources=1, stack="linear", direct=False,
                calibration_cv=None, random_state=0).fit(X, y)
    assert [s["kind"] for s in model.kept_members_] == ["transfer", "outputs"]
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    method = "predict_proba" if cls is TransferClassifier else "predict"
    np.testing.assert_allclose(getattr(loaded, method)(X), getattr(model, method)(X), rtol=1e-6)
