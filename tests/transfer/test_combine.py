"""Weights from out-of-fold predictions, the binary threshold and the zero gate."""

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold

from skmdl.transfer.combine import (best_threshold, combine_weights, eligibility_margin,
                                   log_loss_of, mae_loss)
from skmdl.transfer.gate import ZeroGate

rng = np.random.default_rng(0)


def test_members_worse_than_direct_get_no_weight():
    y = rng.normal(size=200)
    direct = y + rng.normal(0, 0.5, 200)
    worse = y + rng.normal(0, 0.8, 200)
    better = y + rng.normal(0, 0.3, 200)
    P = np.column_stack([direct, worse, better])
    for method in ("greedy", "best"):
        w, losses, eligible = combine_weights(P, y, mae_loss, method)
        assert eligible.tolist() == [True, False, True]
        assert w[1] == 0 and w.sum() == pytest.approx(1) and (w >= 0).all()
        assert mae_loss(y, P @ w) <= losses[0]


def test_margin_in_paired_standard_errors_decides_eligibility():
    y = rng.normal(size=400)
    direct = y + rng.normal(0, 0.5, 400)
    P = np.column_stack([direct, direct - 0.1 * np.sign(direct - y) + rng.normal(0, 0.2, 400)])
    d = np.abs(P[:, 1] - y) - np.abs(P[:, 0] - y)
    z = -d.mean() / (d.std(ddof=1) / np.sqrt(len(y)))  # the member's lead in paired SEs
    assert 0.5 < z
    for margin in (z - 0.01, z + 0.01):
        _, _, eligible = combine_weights(P, y, mae_loss, "greedy", margin=margin)
        assert eligible[1] == (margin < z)


def test_auto_margin_keeps_the_family_wise_level_of_one_standard_error():
    from scipy.stats import norm

    assert eligibility_margin("auto", 1) == pytest.approx(1.0)
    margins = [eligibility_margin("auto", k) for k in (1, 2, 4, 8, 16)]
    assert np.all(np.diff(margins) > 0)
    for k, m in zip((1, 2, 4, 8, 16), margins):
        # probability that none of k independent null members passes equals one one-SE test's
        assert (1 - norm.sf(m)) ** k == pytest.approx(1 - norm.sf(1.0))
    assert eligibility_margin(1.5, 8) == 1.5


def test_greedy_never_above_the_best_member_and_mixes_complementary_ones():
    y = rng.normal(size=300)
    e = rng.normal(0, 1, 300)
    P = np.column_stack([y + e, y - e + rng.normal(0, 0.1, 300), y + 3])
    w, losses, _ = combine_weights(P, y, mae_loss, "greedy", reference=None)
    assert w[0] > 0.3 and w[1] > 0.3 and w[2] == 0
    assert mae_loss(y, P @ w) < 0.5 * losses[:2].min()
    wb, _, _ = combine_weights(P, y, mae_loss, "best", reference=None)
    assert wb.tolist() == [0, 1, 0] or wb.tolist() == [1, 0, 0]


def test_mean_weighs_everything_equally():
    P = rng.normal(size=(50, 4))
    w, _, eligible = combine_weights(P, np.zeros(50), mae_loss, "mean")
    assert np.allclose(w, 0.25) and eligible.all()


def test_classification_weights_on_log_loss():
    y = rng.integers(0, 2, 400)
    good = np.where(y[:, None] == np.arange(2), 0.8, 0.2)
    bad = np.full((400, 2), 0.5)
    P = np.stack([bad, good], axis=1)  # direct is the uninformative one here
    w, losses, eligible = combine_weights(P, y, log_loss_of, "greedy")
    assert eligible.all() and w[1] == 1 and losses[1] < losses[0]


def test_threshold_maximizes_balanced_accuracy_on_imbalanced_labels():
    n = 2000
    y = (rng.random(n) < 0.1).astype(int)  # 10 % positives
    p = np.clip(0.15 + 0.25 * y + rng.normal(0, 0.1, n), 0, 1)  # calibrated-ish, low
    t = best_threshold(y, p)
    assert 0.15 < t < 0.4
    tuned = balanced_accuracy_score(y, p > t)
    assert tuned > balanced_accuracy_score(y, p > 0.5) + 0.2
    grid = max(balanced_accuracy_score(y, p > c) for c in np.linspace(0, 1, 201))
    assert tuned >= grid - 1e-9


def test_threshold_without_both_classes_is_one_half():
    assert best_threshold(np.zeros(5, int), rng.random(5)) == 0.5


def test_zero_gate_lowers_the_error_of_a_regressor_with_a_point_mass_at_zero():
    D = rng.normal(size=(600, 4))
    y = np.where(D[:, 0] > 0.3, 0.0, 2 + D[:, 1])
    smooth = np.where(D[:, 0] > 0.3, 0.6, 2 + D[:, 1])  # a regressor that smears the zeros
    gate = ZeroGate(random_state=0)
    p0 = gate.out_of_fold(D, y, KFold(5, shuffle=True, random_state=0))
    t = gate.choose_threshold(p0, y, smooth)
    assert t is not None
    gated = np.where(p0 > t, 0.0, smooth)
    assert mae_loss(y, gated) < 0.5 * mae_loss(y, smooth)


def test_zero_gate_is_dropped_when_it_does_not_help():
    D = rng.normal(size=(300, 3))
    y = np.where(rng.random(300) < 0.3, 0.0, 1.0)  # zeros unrelated to D
    pred = np.where(y == 0, 0.0, 1.0)  # a regressor that already gets them right
    p0 = ZeroGate(random_state=0).out_of_fold(D, y, KFold(5, shuffle=True, random_state=0))
    assert ZeroGate.choose_threshold(p0, y, pred) is None


def test_zero_gate_out_of_fold_does_not_depend_on_n_jobs():
    D = rng.normal(size=(200, 3))
    y = np.where(D[:, 0] > 0, 0.0, 1 - D[:, 0])
    cv = KFold(4, shuffle=True, random_state=0)
    gate = ZeroGate(n_estimators=20, random_state=0)
    serial, parallel = gate.out_of_fold(D, y, cv), gate.out_of_fold(D, y, cv, n_jobs=2)
    np.testing.assert_array_equal(serial, parallel)
    assert ((serial > 0) & (serial < 1)).any()  # probabilities, not labels


def test_member_spread_is_the_std_of_the_forest_trees():
    from sklearn.ensemble import ExtraTreesRegressor

    from skmdl.transfer.members import member_predict

    D = rng.normal(size=(120, 4))
    y = D[:, 0] + 0.1 * rng.normal(size=120)
    forest = ExtraTreesRegressor(n_estimators=15, random_state=0).fit(D, y)
    mean, sd = member_predict(forest, D[:30], spread=True)
    trees = [t.predict(D[:30].astype(np.float32)) for t in forest.estimators_]
    np.testing.assert_allclose(sd, np.std(trees, axis=0), rtol=1e-12)
    np.testing.assert_allclose(mean, forest.predict(D[:30]))
    assert sd.max() > 0
