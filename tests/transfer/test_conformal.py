"""ConformalRegressor: intervals for any regressor, calibrated on a splitter's validation rows."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skmdl.descriptors import CompositionFeaturizer
from skmdl.transfer import ConformalRegressor, ExtrapolationSplit
from skmdl.transfer.uq import interval_coverage
from skmdl.utils.estimator_checks import check_skmdl_estimator


def linear_data(n=600, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + noise * rng.normal(size=n)


def test_absolute_intervals_cover_new_data():
    X, y = linear_data(1200)
    model = ConformalRegressor(LinearRegression(), cv=5, random_state=0).fit(X[:600], y[:600])
    assert model.validated_.all() and len(model.residuals_) == 600
    cov, width = interval_coverage(y[600:], model.predict_interval(X[600:], alpha=0.1))
    assert 0.85 <= cov <= 0.95
    assert width == pytest.approx(2 * 1.645, rel=0.15)  # +- z_0.95 of the unit noise
    # the point predictions are the refitted estimator's
    np.testing.assert_allclose(model.predict(X[600:]),
                               LinearRegression().fit(X[:600], y[:600]).predict(X[600:]))


def test_blocks_validate_each_row_once_and_extrapolate():
    y = np.arange(100.0)[::-1]
    cv = ExtrapolationSplit(fractions=(0.1, 0.2, 0.3), blocks=True)
    splits = list(cv.split(y, y))
    assert len(splits) == 3
    tests = np.concatenate([te for _, te in splits])
    assert len(tests) == len(set(tests)) == 30
    for train, test in splits:  # every split trains strictly below what it validates
        assert y[train].max() < y[test].min()
    with pytest.raises(ValueError, match="twice"):  # overlapping tails cannot calibrate
        ConformalRegressor(LinearRegression(), cv=ExtrapolationSplit()).fit(y[:, None], y)


def test_extrapolation_calibration_covers_the_top_where_random_folds_do_not():
    # a saturating target fitted by a linear model: above the training range
    # the residuals are larger and one-signed, which random folds cannot see
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 3, 1500)
    y = np.sqrt(x) * 3 + 0.1 * rng.normal(size=x.size)
    X = x[:, None] ** np.arange(1, 3)
    order = np.argsort(y)
    train, test = order[:1350], order[1350:]
    random = ConformalRegressor(LinearRegression(), cv=5, random_state=0).fit(X[train], y[train])
    tail = ConformalRegressor(LinearRegression(), interval="signed",
                              cv=ExtrapolationSplit(fractions=(0.1, 0.2, 0.3), blocks=True))
    tail.fit(X[train], y[train])
    assert not tail.validated_.all()
    cov_random, _ = interval_coverage(y[test], random.predict_interval(X[test]))
    cov_tail, _ = interval_coverage(y[test], tail.predict_interval(X[test]))
    assert cov_tail > cov_random


def test_signed_intervals_and_median_shift():
    X, y = linear_data(400, noise=0.5)
    biased = make_pipeline(Ridge(alpha=1e-6))
    base = ConformalRegressor(biased, cv=KFold(4), interval="signed").fit(X, y + 0.0)
    shifted = ConformalRegressor(biased, cv=KFold(4), shift="median").fit(X, y)
    assert shifted.shift_ == pytest.approx(np.median(shifted.residuals_))
    np.testing.assert_allclose(shifted.predict(X), base.predict(X) + shifted.shift_)
    lo, hi = base.predict_interval(X[:5], alpha=0.2).T
    mean = base.predict(X[:5])
    assert (lo < mean).all() and (mean < hi).all()


def test_formula_inputs_clone_pickle_and_contract():
    X = ["Fe2O3", "NaCl", "SiO2", "BaTiO3", "LiCoO2", "GaAs", "MgO", "ZnO", "TiO2", "Al2O3",
         "CaO", "KCl", "LiF", "CuO", "NiO", "CoO", "SrO", "BaO", "MnO", "FeO"]
    y = np.linspace(0.0, 5.0, len(X))
    model = ConformalRegressor(make_pipeline(CompositionFeaturizer(), Ridge()), cv=4,
                               random_state=0)
    assert clone(model).get_params()["cv"] == 4
    model.fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.predict_interval(X[:3]), model.predict_interval(X[:3]))
    assert np.isfinite(cross_val_score(clone(model), X, y, cv=2, n_jobs=2)).all()
    check_skmdl_estimator(clone(model), X, y)


def test_bad_input_is_refused():
    X, y = linear_data(20)
    with pytest.raises(ValueError, match="rows"):
        ConformalRegressor(LinearRegression()).fit(X, y[:10])
    with pytest.raises(ValueError, match="interval"):
        ConformalRegressor(LinearRegression(), interval="wide").fit(X, y)
    model = ConformalRegressor(LinearRegression(), cv=4).fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        model.predict_interval(X, alpha=1.5)


def test_cv_as_a_list_of_splits():
    X, y = linear_data(40)
    splits = [(np.arange(20, 40), np.arange(20)), (np.arange(20), np.arange(20, 30))]
    model = ConformalRegressor(LinearRegression(), cv=splits).fit(X, y)
    assert model.validated_.sum() == 30 and not model.validated_[30:].any()
