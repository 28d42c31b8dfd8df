import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skmdl.library import ModelLibrary
from skmdl.transfer import PretrainedFeaturizer, TransferRegressor
from skmdl.utils.estimator_checks import check_skmdl_estimator
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def target():
    X, y = synthetic_task(n=120, seed=7)
    return pd.Series(X), y * 2 + 1


def test_pretrained_featurizer(tiny_library):
    lib = ModelLibrary(tiny_library)
    f = PretrainedFeaturizer(models=["toy_a-000", "toy_b-001"], layers=[0, -1],
                             library=str(tiny_library)).fit()
    X = ["Fe2O3", "NaCl", "LiCoO2"]
    H = f.transform(X)
    names = f.get_feature_names_out()
    assert H.shape == (3, len(names))
    # the same numbers as the library's own hidden()
    n0 = sum(n.startswith("toy_a-000:") for n in names)
    np.testing.assert_array_equal(H[:, :n0], lib.hidden("toy_a-000", X, layers=[0, -1]))
    assert names[0] == "toy_a-000:0:0"
    out = f.set_output(transform="pandas").transform(pd.Series(X, index=[5, 6, 7]))
    assert list(out.index) == [5, 6, 7]


def test_pretrained_featurizer_contract(tiny_library, target):
    X, _ = target
    check_skmdl_estimator(
        PretrainedFeaturizer(models=["toy_a-000"], library=str(tiny_library)), X[:20])


def test_pretrained_featurizer_errors(tiny_library):
    with pytest.raises(ValueError, match="at least one model"):
        PretrainedFeaturizer(models=[], library=str(tiny_library)).fit()
    with pytest.raises(KeyError, match="no model 'nope'"):
        PretrainedFeaturizer(models="nope", library=str(tiny_library)).fit()
    f = PretrainedFeaturizer(models="toy_a-000", library=str(tiny_library)).fit()
    with pytest.raises(ValueError, match=r"'Xx' .*row 1"):
        f.transform(["NaCl", "Xx"])


def test_transfer_regressor_screens_and_predicts(tiny_library, target):
    X, y = target
    model = TransferRegressor(library=str(tiny_library), n_sources=2, head=Ridge(),
                              calibration_cv=None, random_state=0).fit(X, y)
    assert len(model.sources_) == 2
    assert list(model.screening_["id"][:2]) == model.sources_
    assert model.screening_["cv_mae"].is_monotonic_increasing
    mean, std = model.predict(X, return_std=True)
    assert mean.shape == std.shape == (len(X),)
    assert (std >= 0).all()
    np.testing.assert_allclose(mean, model.predict(X))
    assert model.score(X, y) > 0.5


def test_exclusions(tiny_library, target):
    X, y = target
    m = TransferRegressor(library=str(tiny_library), n_sources=1, head=Ridge(),
                          exclude_tasks=["toy_a"], calibration_cv=None).fit(X, y)
    assert set(m.screening_["id"]) == {"toy_b-000", "toy_b-001"}
    m = TransferRegressor(library=str(tiny_library), n_sources=1, head=Ridge(),
                          exclude_quantities=["toy b"], calibration_cv=None).fit(X, y)
    assert set(m.screening_["id"]) == {"toy_a-000", "toy_a-001"}
    with pytest.raises(ValueError, match="no candidate source"):
        TransferRegressor(library=str(tiny_library), exclude_tasks=["toy_a", "toy_b"],
                          calibration_cv=None).fit(X, y)


def test_bad_targets(tiny_library, target):
    X, y = target
    m = TransferRegressor(library=str(tiny_library), head=Ridge(), calibration_cv=None)
    with pytest.raises(ValueError, match="NaN"):
        m.fit(X, np.where(np.arange(len(y)) == 3, np.nan, y))
    with pytest.raises(ValueError, match="items but y has"):
        m.fit(X, y[:-1])


def test_intervals_cover(tiny_library):
    X, y = synthetic_task(n=400, seed=11)
    X = pd.Series(X)
    tr, te = np.arange(300), np.arange(300, 400)
    m = TransferRegressor(library=str(tiny_library), n_sources=4, head=Ridge(alpha=1.0),
                          calibration_cv=5, random_state=0).fit(X[tr], y[tr])
    lo, hi = m.predict_interval(X[te], alpha=0.1).T
    coverage = np.mean((y[te] >= lo) & (y[te] <= hi))
    assert 0.75 <= coverage <= 1.0, coverage
    narrow = m.predict_interval(X[te], alpha=0.5)
    assert (narrow[:, 1] - narrow[:, 0] <= hi - lo + 1e-12).all()
    with pytest.raises(ValueError, match="alpha"):
        m.predict_interval(X[te], alpha=1.5)
    m2 = TransferRegressor(library=str(tiny_library), head=Ridge(), calibration_cv=None)
    with pytest.raises(ValueError, match="calibration"):
        m2.fit(X[tr], y[tr]).predict_interval(X[te])


def test_transfer_regressor_contract(tiny_library, target):
    X, y = target
    check_skmdl_estimator(
        TransferRegressor(library=str(tiny_library), n_sources=2, head=Ridge(),
                          calibration_cv=None, random_state=0), X[:40], y[:40])


def test_in_gridsearch_and_cross_validate(tiny_library, target):
    X, y = target
    model = TransferRegressor(library=str(tiny_library), n_sources=1, head=Ridge(),
                              calibration_cv=None, random_state=0)
    gs = GridSearchCV(model, {"head__alpha": [0.1, 10.0], "n_sources": [1, 2]}, cv=3,
                      scoring="neg_mean_absolute_error").fit(X, y)
    assert set(gs.best_params_) == {"head__alpha", "n_sources"}
    cv = cross_validate(model, X, y, cv=KFold(3), n_jobs=2)
    assert np.isfinite(cv["test_score"]).all()
    restored = pickle.loads(pickle.dumps(gs.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X[:5]), gs.best_estimator_.predict(X[:5]))
    assert clone(model).get_params()["library"] == str(tiny_library)


def test_descriptor_options(tiny_library, target):
    from skmdl.descriptors import CompositionFeaturizer

    X, y = target
    widths = {}
    for name, desc in [("source", "source"), ("none", "none"),
                       ("user", CompositionFeaturizer(stats=["mean"]))]:
        m = TransferRegressor(library=str(tiny_library), sources=["toy_a-000"], n_sources=1,
                              head=Ridge(), descriptors=desc, direct=False, stack=False,
                              calibration_cv=None).fit(X, y)
        widths[name] = m.estimators_[0].n_features_in_
        assert m.predict(X[:3]).shape == (3,)
    hidden = widths["none"]
    assert widths["source"] == hidden + 44  # the tiny library's descriptor: 22 props x 2 stats
    assert widths["user"] == hidden + 22


def test_transfer_classifier(tiny_library, target):
    from sklearn.linear_model import LogisticRegression

    from skmdl.transfer import TransferClassifier

    X, y = target
    labels = np.where(y > np.median(y), "high", "low")
    clf = TransferClassifier(library=str(tiny_library), n_sources=2,
                             head=LogisticRegression(max_iter=2000), random_state=0)
    clf.fit(X, labels)
    assert list(clf.classes_) == ["high", "low"]
    assert clf.screening_["cv_log_loss"].is_monotonic_increasing
    proba, spread = clf.predict_proba(X, return_std=True)
    assert proba.shape == spread.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"high", "low"}
    assert clf.score(X, labels) > 0.7
    with pytest.raises(ValueError, match="two classes"):
        clf.fit(X, np.array(["a"] * len(X)))
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.fit(X, y)  # continuous target


def test_finetune_mode(tiny_library, target):
    X, y = target
    m = TransferRegressor(library=str(tiny_library), n_sources=2, mode="finetune",
                          finetune_params={"max_epochs": 100, "patience": 10, "lr": 1e-2,
                                           "lower_lr_factor": 0.3},
                          direct=False, stack=False, calibration_cv=None,
                          random_state=0).fit(X[:90], y[:90])
    from skmdl.transfer.finetune import SourceFineTuner

    assert all(isinstance(e, SourceFineTuner) for e in m.estimators_)
    assert all(1 <= e.n_epochs_ <= 100 for e in m.estimators_)
    mean, std = m.predict(X[90:], return_std=True)
    assert mean.shape == (30,) and (std > 0).all()
    assert m.score(X[90:], y[90:]) > 0.3
    # the library's network is not modified by fine-tuning
    lib = ModelLibrary(tiny_library)
    module, _ = lib.load(m.sources_[0])
    tuned = m.estimators_[0].net_.module_
    assert not np.allclose(module.out.weight.detach().numpy(), tuned.out.weight.detach().numpy())
    restored = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(restored.predict(X[90:95]), m.predict(X[90:95]), rtol=1e-6)


def test_output_layer_is_the_source_prediction(tiny_library):
    lib = ModelLibrary(tiny_library)
    X = ["Fe2O3", "NaCl", "LiCoO2", "GaAs"]
    f = PretrainedFeaturizer(models=["toy_a-000", "toy_b-001"], layers="output",
                             library=str(tiny_library)).fit()
    assert list(f.get_feature_names_out()) == ["toy_a-000:output:0", "toy_b-001:output:0"]
    H = f.transform(X)
    np.testing.assert_allclose(H[:, 0], lib.predict("toy_a-000", X), rtol=1e-6)
    np.testing.assert_allclose(H[:, 1], lib.predict("toy_b-001", X), rtol=1e-6)
    both = PretrainedFeaturizer(models="toy_a-000", layers=[-1, "output"],
                                library=str(tiny_library)).fit().transform(X)
    np.testing.assert_allclose(both[:, -1], H[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        PretrainedFeaturizer(models="toy_a-000", layers=[7],
                             library=str(tiny_library)).fit().transform(X)
    with pytest.raises(ValueError, match="'output'"):
        PretrainedFeaturizer(models="toy_a-000", layers=["last"],
                             library=str(tiny_library)).fit()


def test_extrapolation_split():
    from skmdl.transfer import ExtrapolationSplit

    y = np.arange(100.0)[::-1]
    splits = list(ExtrapolationSplit(fractions=(0.1, 0.25)).split(y, y))
    assert [len(te) for _, te in splits] == [10, 25]
    for tr, te in splits:
        assert y[te].min() > y[tr].max()  # validation strictly above training
        assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 100
    lower = list(ExtrapolationSplit(fractions=0.1, tail="lower").split(y, y))
    assert set(y[lower[0][1]]) == set(range(10))
    with pytest.raises(ValueError, match="fractions"):
        ExtrapolationSplit(fractions=(1.5,)).get_n_splits()
    with pytest.raises(ValueError, match="needs y"):
        next(ExtrapolationSplit().split(y))


def test_screening_with_a_splitter(tiny_library, target):
    from skmdl.transfer import ExtrapolationSplit

    X, y = target
    model = TransferRegressor(library=str(tiny_library), n_sources=1, head=Ridge(),
                              layers=[-1, "output"], screening_cv=ExtrapolationSplit(),
                              calibration_cv=None, random_state=0).fit(X, y)
    assert model.screening_["cv_mae"].notna().all()
    # the score is the mean MAE on the top 10 % and top 20 % of y
    cv = model.screening_.set_index("id")["cv_mae"]
    assert len(cv) == len(ModelLibrary(tiny_library).search())
    assert model.predict(X[:5]).shape == (5,)
