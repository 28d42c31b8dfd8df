"""Transfer estimators inside AutoML and hyperparameter-search tools.

FLAML (TransferLearner on a composition table), Optuna's OptunaSearchCV and
scikit-learn's HalvingGridSearchCV, on the bundled matbench_steels sample with
tiny budgets: a few candidate sources, ridge heads, no interval calibration.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmdl.datasets import load_sample
from skmdl.descriptors import CompositionFeaturizer
from skmdl.library import ModelLibrary
from skmdl.transfer import TransferRegressor
from skmdl.transfer.automl import TransferLearner, composition_table, table_compositions
from skmdl.utils.threads import one_thread

#: a few inorganic sources of the embedded library (same descriptors, fast to screen)
SOURCES = ["mp_e_hull-000", "critexam_ef-000", "aflow_ael_bulk_modulus_vrh-000",
           "oqmd_formation_enthalpy-000"]


class SteelTransfer(TransferLearner):
    """The FLAML learner restricted to SOURCES (module level, so it pickles)."""

    sources = SOURCES
    max_sources = 3


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Time the tools, not thread contention: BLAS and torch on one thread each."""
    with one_thread():
        yield


@pytest.fixture(scope="module")
def steels():
    X, y = load_sample("matbench_steels")
    return train_test_split(X, y, test_size=0.25, random_state=0)


def cheap_transfer(**params):
    """TransferRegressor with a standardized ridge head and no calibration."""
    return TransferRegressor(sources=SOURCES, n_sources=2,
                             head=make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
                             calibration_cv=None, screening_cv=3, n_jobs=1, random_state=0,
                             **params)


def folds():
    return KFold(3, shuffle=True, random_state=0)


def check_predictions(model, X, y, min_corr=0.5):
    pred = np.asarray(model.predict(X), dtype=float)
    assert pred.shape == (len(y),)
    assert np.isfinite(pred).all()
    assert np.corrcoef(pred, y)[0, 1] > min_corr


# ------------------------------------------------------------------ composition tables
def test_composition_table_round_trip_keeps_source_descriptors():
    X = pd.Series(["Fe2O3", "NaCl", "CuSO4·5H2O", "Fe0.7Cr0.18Ni0.12", "Ca(OH)2", "NaCl"],
                  index=[10, 11, 12, 13, 14, 15])
    T = composition_table(X)
    assert list(T.index) == list(X.index)
    assert list(T.columns) == ["H", "O", "Na", "S", "Cl", "Ca", "Cr", "Fe", "Ni", "Cu"]
    assert T.loc[12, "H"] == 10.0 and T.loc[12, "O"] == 9.0
    assert (T.loc[11] == T.loc[15]).all()
    # the source models' descriptor (XenonPy "sum" is extensive: amounts, not fractions)
    spec = ModelLibrary.default().card(SOURCES[0])["descriptor"]["params"]
    f = CompositionFeaturizer(**spec).fit()
    np.testing.assert_allclose(f.transform(table_compositions(T)), f.transform(X), rtol=1e-12)


def test_table_compositions_rejects_what_is_not_a_composition():
    with pytest.raises(ValueError, match=r"\['temperature'\] are not element symbols"):
        table_compositions(pd.DataFrame({"Fe": [1.0], "temperature": [300.0]}))
    with pytest.raises(ValueError, match="amount of O in row 1 is nan"):
        table_compositions(pd.DataFrame({"Fe": [1.0, 2.0], "O": [1.0, np.nan]}))
    with pytest.raises(ValueError, match="amount of O in row 0 is -1.0"):
        table_compositions(pd.DataFrame({"Fe": [1.0], "O": [-1.0]}))
    with pytest.raises(ValueError, match="row 1 has no element"):
        table_compositions(pd.DataFrame({"Fe": [1.0, 0.0]}))
    with pytest.raises(TypeError, match="got ndarray"):
        table_compositions(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"cannot parse 'Xx2' \(row 1\)"):
        composition_table(["NaCl", "Xx2"])
    with pytest.raises(ValueError, match=r"elements \['K'\] are not columns"):
        composition_table(["KCl"], elements=["Na", "Cl"])


# ------------------------------------------------------------------ FLAML
def test_transfer_learner_params_make_a_cloneable_transfer_regressor():
    learner = SteelTransfer(task="regression", n_sources=2, alpha=3.0, layers="output",
                            n_jobs=-1)
    model = clone(TransferRegressor(**learner.params))
    assert model.sources == SOURCES and model.n_sources == 2 and model.layers == "output"
    assert model.n_jobs is None  # FLAML's n_jobs=-1 would start worker processes per fit
    assert model.head[-1].alpha == 3.0 and model.calibration_cv is None
    space = SteelTransfer.search_space((100, 10), None)
    assert set(space) == {"n_sources", "alpha", "layers"}
    with pytest.raises(ValueError, match="regression tasks only"):
        SteelTransfer(task="binary")


def test_flaml_selects_between_transfer_and_random_forest(steels):
    from flaml import AutoML

    X_train, X_test, y_train, y_test = steels
    T_train = composition_table(X_train)
    T_test = composition_table(X_test, elements=T_train.columns)
    automl = AutoML()
    automl.add_learner("skmdl_transfer", SteelTransfer)
    # FLAML picks the next learner by estimated cost: the (costlier) transfer learner
    # is listed first so that it is evaluated under a small budget
    automl.fit(T_train, y_train, task="regression", estimator_list=["skmdl_transfer", "rf"],
               time_budget=10, max_iter=8, eval_method="cv", n_splits=3, skip_transform=True,
               n_jobs=1, seed=0, verbose=0)
    assert automl.best_estimator in ("skmdl_transfer", "rf")
    tried = automl.best_loss_per_estimator
    assert np.isfinite(tried["skmdl_transfer"]) and tried["skmdl_transfer"] < 1  # R² > 0
    assert 1 <= automl.best_config_per_estimator["skmdl_transfer"]["n_sources"] <= 3
    check_predictions(automl, T_test, y_test)
    again = pickle.loads(pickle.dumps(automl))
    np.testing.assert_allclose(again.predict(T_test[:5]), automl.predict(T_test[:5]))


def test_transfer_learner_fits_on_a_composition_table(steels):
    X_train, X_test, y_train, y_test = steels
    learner = SteelTransfer(task="regression", n_sources=2, alpha=10.0, layers="last", n_jobs=1)
    learner.fit(composition_table(X_train), y_train)
    assert len(learner.model.sources_) == 2
    check_predictions(learner, composition_table(X_test), y_test)  # other columns: fine


# ------------------------------------------------------------------ Optuna
def test_optuna_search_cv_tunes_transfer_hyperparameters(steels):
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X_train, X_test, y_train, y_test = steels
    space = {
        "n_sources": IntDistribution(1, 3),
        "head__ridge__alpha": FloatDistribution(1e-2, 1e3, log=True),
        "layers": CategoricalDistribution([-1, 0, "output"]),
    }
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        search = OptunaSearchCV(cheap_transfer(), space, cv=folds(), n_trials=3,
                                scoring="r2", random_state=0)
    search.fit(X_train, y_train)
    assert len(search.trials_) == 3
    assert set(search.best_params_) == set(space)
    assert 1 <= search.best_params_["n_sources"] <= 3
    assert len(search.best_estimator_.sources_) == search.best_params_["n_sources"]
    assert search.best_score_ > 0
    check_predictions(search, X_test, y_test)


# ------------------------------------------------------------------ successive halving
def test_halving_grid_search_over_transfer_estimators(steels):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X_train, X_test, y_train, y_test = steels
    grid = {"n_sources": [1, 3], "head__ridge__alpha": [0.1, 10.0]}
    search = HalvingGridSearchCV(cheap_transfer(), grid, cv=folds(), factor=2,
                                 min_resources=80, random_state=0).fit(X_train, y_train)
    # 4 candidates on 80 samples, then the best 2 on 160
    assert search.n_candidates_ == [4, 2] and search.n_resources_ == [80, 160]
    assert search.best_params_["n_sources"] in (1, 3)
    check_predictions(search, X_test, y_test)
