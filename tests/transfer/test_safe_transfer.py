"""The transfer defaults never lose to the direct model by inner CV, and use same-quantity
sources as multi-fidelity corrections."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skmdl.transfer import TransferClassifier, TransferRegressor
from skmdl.transfer.saving import load_model, save_model
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def noise_target():
    """A target the toy sources know nothing about (random per formula)."""
    X, _ = synthetic_task(n=120, seed=11)
    return pd.Series(X), np.random.default_rng(0).normal(size=120)


@pytest.fixture(scope="module")
def other_fidelity():
    """The toy sources' own quantity at another 'fidelity': 1.5 f(x) + 0.7 (+ noise)."""
    X, y = synthetic_task(n=160, seed=12)
    return pd.Series(X), 1.5 * y + 0.7 + np.random.default_rng(1).normal(0, 0.02, 160)


def _loss_column(model):
    return next(c for c in model.members_.columns if c.startswith("oof_"))


def _direct_loss(model):
    m = model.members_
    return float(m.loc[m["member"] == "direct", _loss_column(model)].iloc[0])


@pytest.mark.parametrize("combine", ["greedy", "best"])
def test_no_kept_member_is_worse_than_direct_by_inner_cv(tiny_library, noise_target, combine):
    X, y = noise_target
    model = TransferRegressor(library=str(tiny_library), n_sources=2, combine=combine,
                              random_state=0).fit(X, y)
    m = model.members_
    assert m.loc[0, "member"] == "direct" and len(m) >= 3  # direct, 2 transfer, stack
    kept = m[m["weight"] > 0]
    assert (kept["oof_mae"] <= _direct_loss(model) + 1e-12).all()
    assert (m.loc[~m["eligible"], "weight"] == 0).all()
    assert (m.loc[m["oof_mae"] > _direct_loss(model) + 1e-12, "eligible"] == False).all()  # noqa
    # the combination's own out-of-fold error is no worse than direct's
    combined = np.abs(model.oof_ @ m["weight"].to_numpy() - y).mean()
    assert combined <= _direct_loss(model) + 1e-12
    assert model.weights_.sum() == pytest.approx(1)
    assert len(model.estimators_) == len(model.kept_members_) == int((m["weight"] > 0).sum())


def test_auto_margin_admits_only_members_ahead_by_the_corrected_margin(tiny_library,
                                                                      other_fidelity):
    from skmdl.transfer.combine import eligibility_margin

    X, y = other_fidelity
    fits = {m: TransferRegressor(library=str(tiny_library), n_sources=2, margin=m, gate=False,
                                 random_state=0).fit(X, y) for m in (1.0, "auto")}
    one, auto = fits[1.0].members_, fits["auto"].members_
    assert one["member"].tolist() == auto["member"].tolist()
    margin = eligibility_margin("auto", len(auto) - 1)
    rows = np.abs(fits["auto"].oof_ - y[:, None])
    d = (rows - rows[:, [0]])[:, 1:]
    lead = -d.mean(axis=0) / (d.std(axis=0, ddof=1) / np.sqrt(len(y)))
    assert (auto["eligible"].to_numpy()[1:] == (lead >= margin - 1e-9)).all()
    assert (auto["eligible"] <= one["eligible"]).all()  # stricter: a subset
    assert auto["eligible"].iloc[1:].any()  # the related sources still pass here


def test_classifier_keeps_no_member_worse_than_direct(tiny_library, noise_target):
    X, y = noise_target
    clf = TransferClassifier(library=str(tiny_library), n_sources=2, random_state=0)
    clf.fit(X, np.where(y > 0.8, "a", "b"))  # imbalanced, unrelated to the sources
    m = clf.members_
    kept = m[m["weight"] > 0]
    assert (kept["oof_log_loss"] <= _direct_loss(clf) + 1e-12).all()
    assert 0 < clf.threshold_ < 1
    assert set(clf.predict(X)) <= {"a", "b"}


def test_same_quantity_sources_give_multi_fidelity_members_that_win(tiny_library,
                                                                   other_fidelity):
    X, y = other_fidelity
    tr, te = np.arange(60), np.arange(60, 160)
    fid = TransferRegressor(library=str(tiny_library), quantity="toy", random_state=0)
    fid.fit(X[tr], y[tr])
    assert fid.fidelity_sources() == ["toy_a-000", "toy_a-001"]
    names = fid.members_["member"].tolist()
    assert any(n.startswith("delta:toy_a") for n in names)
    assert any(n.startswith("affine:toy_a") for n in names)
    kept = fid.members_[fid.members_["weight"] > 0]
    assert kept["kind"].isin(["affine", "delta", "stack"]).any()
    affine = [m for m in fid.kept_members_ if m["kind"] == "affine"]
    if affine:  # the fitted correction is the true one, roughly
        a, b = affine[0]["offset"]
        assert 1.0 < a < 2.0
    plain = TransferRegressor(library=str(tiny_library), fidelity="none", random_state=0)
    plain.fit(X[tr], y[tr])
    assert not plain.members_["kind"].isin(["delta", "affine"]).any()
    mae = lambda m: float(np.abs(m.predict(X[te]) - y[te]).mean())  # noqa: E731
    direct = TransferRegressor(library=str(tiny_library), n_sources=1, stack=False,
                               fidelity="none", combine="best", random_state=0)
    direct.fit(X[tr], y[tr])
    assert mae(fid) <= mae(plain) + 1e-9
    assert mae(fid) < 0.9 * float(np.abs(direct.oof_[:, 0] - y[tr]).mean())


@pytest.mark.parametrize("kind", ["delta", "affine"])
def test_fidelity_parameter_picks_one_correction(tiny_library, other_fidelity, kind):
    X, y = other_fidelity
    model = TransferRegressor(library=str(tiny_library), quantity="TOY", fidelity=kind,
                              n_sources=1, random_state=0).fit(X[:60], y[:60])
    kinds = set(model.members_["kind"])
    assert kind in kinds and ({"delta", "affine"} - {kind}).isdisjoint(kinds)


def test_zero_gate_is_tried_only_with_a_point_mass_at_zero(tiny_library, other_fidelity):
    X, y = other_fidelity
    y0 = np.where(y < np.quantile(y, 0.3), 0.0, y)
    gated = TransferRegressor(library=str(tiny_library), n_sources=2, random_state=0)
    gated.fit(X, y0)
    assert gated.gate_ is not None  # the zeros are the low end of a smooth source property
    zero = gated.predict(X) == 0
    assert 0.15 < zero.mean() < 0.5 and (y0[zero] == 0).mean() > 0.8
    plain = TransferRegressor(library=str(tiny_library), n_sources=2, random_state=0).fit(X, y)
    assert plain.gate_ is None


def test_hurdle_members_learn_the_nonzero_rows(tiny_library, other_fidelity):
    X, y = other_fidelity
    y0 = np.where(y < np.quantile(y, 0.3), 0.0, y)
    hurdle = TransferRegressor(library=str(tiny_library), n_sources=2, hurdle=True,
                               random_state=0)
    hurdle.fit(X, y0)
    assert hurdle.gate_ is not None
    np.testing.assert_array_equal(hurdle.fit_rows_, y0 != 0)
    rows = hurdle.fit_rows_  # the members' out-of-fold losses are over the non-zero rows
    direct = float(np.abs(hurdle.oof_[rows, 0] - y0[rows]).mean())
    assert hurdle.members_.loc[0, "oof_mae"] == pytest.approx(direct)
    assert np.isfinite(hurdle.oof_).all()  # the zero rows are predicted too, for the gate
    plain = clone(hurdle).set_params(hurdle=False).fit(X, y0)
    assert plain.fit_rows_.all() and plain.gate_ is not None
    # on the non-zero rows, a direct model that never learned a zero is the closer one
    assert direct < float(np.abs(plain.oof_[rows, 0] - y0[rows]).mean())
    auto = clone(hurdle).set_params(hurdle="auto").fit(X, y0)  # the inner CV decides
    assert auto.oof_loss_ == min(hurdle.oof_loss_, plain.oof_loss_)
    winner = hurdle if hurdle.oof_loss_ <= plain.oof_loss_ else plain
    np.testing.assert_array_equal(auto.fit_rows_, winner.fit_rows_)
    np.testing.assert_array_equal(auto.predict(X[:20]), winner.predict(X[:20]))


def test_intervals_are_calibrated_per_gate_decision(tiny_library, other_fidelity):
    from skmdl.transfer.conformal import conformal_quantile, scaled_interval

    X, y = other_fidelity
    y0 = np.where(y < np.quantile(y, 0.3), 0.0, y)
    model = TransferRegressor(library=str(tiny_library), n_sources=2, hurdle=True,
                              random_state=0)
    model.fit(X[:120], y0[:120])
    groups = model.calibration_zero_
    assert model.gate_ is not None and 0 < groups.mean() < 1
    mean, std = model.predict(X[120:], return_std=True)
    zero = mean == 0
    assert 0 < zero.mean() < 1
    lo, hi = model.interval_from(mean, std, alpha=0.2).T
    for group in (True, False):  # each group's half-width from its own calibration rows
        q = conformal_quantile(model.calibration_scores_[groups == group], 0.2)
        rows = zero == group
        np.testing.assert_allclose(hi[rows] - mean[rows],
                                   q * np.maximum(std[rows], model.sd_floor_))
    pooled = scaled_interval(mean, std, model.calibration_scores_, 0.2, model.sd_floor_)
    assert not np.allclose(pooled[:, 1], hi)
    np.testing.assert_array_equal(model.predict_interval(X[120:], alpha=0.2), np.c_[lo, hi])
    covered = (y0[120:] >= lo) & (y0[120:] <= hi)
    assert covered.mean() >= 0.6, covered.mean()


def test_hurdle_falls_back_to_every_row_without_a_gate(tiny_library, other_fidelity):
    X, y = other_fidelity
    y0 = y - y.min() + 1.0
    y0[np.random.default_rng(0).random(len(y0)) < 0.15] = 0.0  # zeros nothing predicts
    model = TransferRegressor(library=str(tiny_library), n_sources=2, hurdle=True,
                              random_state=0)
    model.fit(X, y0)
    assert model.gate_ is None and model.fit_rows_.all()


def test_grid_search_cross_validate_and_pickle(tiny_library, noise_target):
    X, y = noise_target
    base = TransferRegressor(library=str(tiny_library), n_sources=1, random_state=0)
    search = GridSearchCV(base, {"combine": ["greedy", "best"]}, cv=3,
                          scoring="neg_mean_absolute_error").fit(X, y)
    assert search.best_params_["combine"] in ("greedy", "best")
    cv = cross_validate(clone(base), X, y, cv=KFold(3), n_jobs=2,
                        scoring="neg_mean_absolute_error")
    assert np.isfinite(cv["test_score"]).all()
    fitted = clone(base).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(X[:10]), fitted.predict(X[:10]))


@pytest.mark.parametrize("head", ["kernel_ridge", "gp"])
def test_kernel_heads_for_small_data(tiny_library, other_fidelity, head):
    X, y = other_fidelity
    model = TransferRegressor(library=str(tiny_library), n_sources=1, head=head,
                              random_state=0).fit(X[:60], y[:60])
    step = model.estimators_[0].steps[-1][1]
    assert type(step).__name__ == ("GridSearchCV" if head == "kernel_ridge"
                                   else "GaussianProcessRegressor")
    mae = float(np.abs(model.predict(X[60:]) - y[60:]).mean())
    assert mae < np.abs(y[60:] - y[:60].mean()).mean()  # better than the mean
    lo, hi = model.predict_interval(X[60:], 0.1).T
    assert (lo <= hi).all()


def test_calibration_cv_splitter_weighs_members_on_its_partition(tiny_library, other_fidelity):
    from skmdl.descriptors import parse_formula
    from skmdl.transfer import ElementCountSplit, ExtrapolationSplit

    X, y = other_fidelity
    assert len({len(parse_formula(f)) for f in X}) >= 2
    model = TransferRegressor(library=str(tiny_library), n_sources=1, quantity="toy",
                              calibration_cv=ElementCountSplit(), random_state=0).fit(X, y)
    assert np.isfinite(model.oof_).all()  # every row predicted once, by a model of other sizes
    assert model.members_["weight"].sum() == pytest.approx(1.0)
    assert {"linear:toy_a-000", "linear:toy_a-001"} & set(model.members_["member"])
    same = TransferRegressor(library=str(tiny_library), n_sources=1,
                             calibration_cv=KFold(5, shuffle=True, random_state=0),
                             random_state=0).fit(X, y)
    assert np.isfinite(same.oof_).all()
    with pytest.raises(ValueError, match="partition"):  # overlapping validation sets
        TransferRegressor(library=str(tiny_library), n_sources=1,
                          calibration_cv=ExtrapolationSplit(), random_state=0).fit(X, y)


def test_element_count_split_needs_two_sizes_and_names_a_bad_row():
    from skmdl.exceptions import FormulaError
    from skmdl.transfer import ElementCountSplit

    with pytest.raises(ValueError, match="at least two"):
        list(ElementCountSplit().split(["NaCl", "MgO", "FeS"]))
    with pytest.raises(FormulaError, match="row 1"):
        list(ElementCountSplit().split(["NaCl", "Xx2", "FeSO4"]))
    tests = [t.tolist() for _, t in ElementCountSplit(min_size=2).split(
        ["NaCl", "MgO", "FeSO4", "LiCoO2", "KAlSiO4"])]
    assert tests == [[0, 1], [2, 3, 4]]  # the lone 4-element row joins the ternaries


def test_linear_fidelity_member_saves_and_loads(tiny_library, other_fidelity, tmp_path):
    from skmdl.transfer.saving import load_model, save_model

    X, y = other_fidelity
    model = TransferRegressor(library=str(tiny_library), n_sources=1, quantity="toy",
                              fidelity="linear", combine="mean", random_state=0).fit(X, y)
    assert "linear" in [m["kind"] for m in model.kept_members_]  # "mean" keeps every member
    ensemble = next(m for m in model.kept_members_ if m["name"] == "linear:mean of 2")
    assert ensemble["source"] == ["toy_a-000", "toy_a-001"]
    linear = next(m for m in model.kept_members_ if m["kind"] == "linear")
    a, b = linear["offset"]
    assert a == pytest.approx(1.5, abs=0.2) and b == pytest.approx(0.7, abs=0.3)
    save_model(model, tmp_path / "m")
    np.testing.assert_allclose(load_model(tmp_path / "m").predict(X[:10]), model.predict(X[:10]))


def _alloys(n, seed):
    """Random 10-element alloys; the target is a step in two minor elements' contents."""
    rng = np.random.default_rng(seed)
    els = ["Fe", "Ni", "Co", "Cr", "Mn", "Al", "Ti", "V", "Cu", "Mo"]
    w = rng.dirichlet(np.full(len(els), 0.5), size=n)
    X = pd.Series(["".join(f"{e}{x:.3f}" for e, x in zip(els, row)) for row in w])
    return X, ((w[:, 3] > 0.1) & (w[:, 4] < 0.05)).astype(float) + rng.normal(0, 0.05, n)


def test_fractions_member_is_a_second_direct_model_on_the_composition(tiny_library,
                                                                      tmp_path):
    X, y = _alloys(150, 0)
    model = TransferRegressor(library=str(tiny_library), n_sources=2, random_state=0).fit(X, y)
    m = model.members_.set_index("member")
    assert m.loc["fractions", "kind"] == "fractions"
    names = model.descriptors_.get_feature_names_out()
    assert sum(str(n).startswith("frac_") for n in names) == 103  # H..Lr
    # the composition alone says it all: the member beats direct out of fold and is kept
    assert m.loc["fractions", "oof_mae"] < m.loc["direct", "oof_mae"]
    assert m.loc["fractions", "weight"] > 0
    Xt, yt = _alloys(100, 1)
    assert np.abs(model.predict(Xt) - yt).mean() < 0.6 * np.abs(yt - yt.mean()).mean()
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(restored.predict(Xt), model.predict(Xt))
    save_model(model, tmp_path / "alloys")  # the safe format (skops + safetensors)
    saved = load_model(tmp_path / "alloys")
    np.testing.assert_allclose(saved.predict(Xt), model.predict(Xt))


def test_no_fractions_member_without_element_fraction_descriptors(tiny_library):
    from skmdl.descriptors import CompositionFeaturizer

    X, y = _alloys(60, 2)
    model = TransferRegressor(library=str(tiny_library), n_sources=1, random_state=0,
                              descriptors=CompositionFeaturizer()).fit(X, y)
    assert "fractions" not in set(model.members_["member"])
    off = TransferRegressor(library=str(tiny_library), n_sources=1, random_state=0,
                            direct=False).fit(X, y)
    assert not off.members_["member"].isin(["direct", "fractions"]).any()
