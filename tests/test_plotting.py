"""skmdl.plotting draws what its inputs say, on the Axes it is given, and rejects bad inputs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from pymatgen.core import Lattice, Structure
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, Ridge

from skmdl.csp import Candidate
from skmdl.plotting import (calibration_plot, csp_ranking_plot, learning_curve,
                            learning_curve_plot, parity_plot, source_ranking_plot)
from skmdl.transfer.uq import plot_calibration


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def scatter_points(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


# --------------------------------------------------------------------------- parity
def test_parity_plot_points_diagonal_metrics_and_units():
    y = np.arange(10.0)
    pred = y + np.repeat([0.5, -0.5], 5)
    ax = parity_plot(y, pred, label="ridge", units="eV")
    (points,) = scatter_points(ax)
    np.testing.assert_allclose(points.get_offsets(), np.column_stack([y, pred]))
    assert legend_texts(ax) == ["ridge: MAE 0.5 eV, R² 0.970"]
    assert ax.get_xlabel() == "true (eV)" and ax.get_ylabel() == "predicted (eV)"
    assert ax.get_xlim() == ax.get_ylim()  # square, so the diagonal is at 45°
    assert sum(line.get_gid() == "skmdl-diagonal" for line in ax.get_lines()) == 1


def test_parity_plot_std_bars_and_interval_coverage():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    pred = np.array([0.1, 0.9, 2.5, 3.0])
    ax = parity_plot(y, pred, y_std=[0.2, 0.2, 0.2, 0.2])
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bars.get_segments()) == 4
    np.testing.assert_allclose(bars.get_segments()[2], [[2.0, 2.3], [2.0, 2.7]])
    assert legend_texts(ax)[1] == "±1 std"

    intervals = np.column_stack([pred - 0.3, pred + 0.3])  # the third misses y = 2
    ax = parity_plot(y, pred, intervals=intervals, units="eV")
    assert legend_texts(ax)[1] == "intervals: coverage 0.75, mean width 0.6 eV"


def test_parity_plot_draws_on_the_given_axes_and_overlays():
    fig, (a, b) = plt.subplots(1, 2)
    assert parity_plot([1, 2, 3], [1, 2, 4], ax=b, label="first") is b
    assert parity_plot([10, 20], [11, 19], ax=b, label="second") is b
    assert not a.has_data() and len(fig.axes) == 2
    assert len(scatter_points(b)) == 2
    assert sum(line.get_gid() == "skmdl-diagonal" for line in b.get_lines()) == 1
    assert b.get_xlim()[0] < 1 and b.get_xlim()[1] > 20  # limits cover both data sets
    assert [t.split(":")[0] for t in legend_texts(b)] == ["first", "second"]


def test_parity_plot_on_shared_axes_keeps_both_in_view():
    fig, (a, b) = plt.subplots(1, 2, sharex=True, sharey=True)
    parity_plot([0, 100], [5, 95], ax=a)
    parity_plot([40, 50], [41, 49], ax=b)
    assert a.get_xlim() == b.get_xlim() and a.get_xlim()[0] < 0 and a.get_xlim()[1] > 100


@pytest.mark.parametrize("kwargs, message", [
    ({"y_pred": [1, 2]}, "y_true has 3 values but y_pred has 2"),
    ({"y_std": [1, 1]}, "y_true has 3 values but y_std has 2"),
    ({"intervals": [[0, 1], [0, 1]]}, r"intervals must have shape \(3, 2\).*got \(2, 2\)"),
    ({"y_std": [1, 1, 1], "intervals": [[0, 1]] * 3}, "not both"),
    ({"y_pred": [1, np.nan, 2]}, "y_pred has 1 non-finite value.*row 1"),
    ({"y_pred": [[1, 2, 3]]}, "y_pred must be 1-d"),
])
def test_parity_plot_rejects_bad_input(kwargs, message):
    args = {"y_true": [1.0, 2.0, 3.0], "y_pred": [1.0, 2.0, 3.0], **kwargs}
    with pytest.raises(ValueError, match=message):
        parity_plot(args.pop("y_true"), args.pop("y_pred"), **args)


# --------------------------------------------------------------------------- calibration
CURVE = pd.DataFrame({"nominal": [0.5, 0.7, 0.9], "observed": [0.45, 0.72, 0.88],
                      "mean_width": [1.0, 1.5, 2.5]})


def test_calibration_plot_curve_and_diagonal():
    fig, ax = plt.subplots()
    assert calibration_plot(CURVE, ax=ax, label="transfer") is ax
    calibration_plot(CURVE.assign(observed=[0.5, 0.7, 0.9]), ax=ax, label="ideal")
    curves = [line for line in ax.get_lines() if line.get_gid() != "skmdl-diagonal"]
    assert [line.get_ydata().tolist() for line in curves] == [[0.45, 0.72, 0.88], [0.5, 0.7, 0.9]]
    assert len(ax.get_lines()) == 3  # one diagonal for both curves
    assert legend_texts(ax) == ["transfer", "ideal"]
    assert ax.get_xlim() == (0, 1) and ax.get_ylim() == (0, 1)


def test_uq_plot_calibration_is_the_same_plot():
    old, new = plot_calibration(CURVE, None, "x"), calibration_plot(CURVE, label="x")
    assert [line.get_xydata().tolist() for line in old.get_lines()[1:]] == \
        [line.get_xydata().tolist() for line in new.get_lines()[1:]]
    assert legend_texts(old) == legend_texts(new) == ["x"]


def test_calibration_plot_rejects_other_tables():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['observed'\]"):
        calibration_plot(CURVE.drop(columns="observed"))
    with pytest.raises(TypeError, match="DataFrame"):
        calibration_plot(CURVE.to_numpy())


# --------------------------------------------------------------------------- learning curves
def test_learning_curve_plot_lines_bands_and_log_axis():
    res = pd.DataFrame({"n": [200, 50, 100] * 2, "model": ["direct"] * 3 + ["transfer"] * 3,
                        "mae": [0.6, 0.8, 0.7, 0.55, 0.7, 0.6],
                        "mae_std": [0.02, 0.05, 0.03, 0.02, 0.04, 0.03]})
    fig, ax = plt.subplots()
    assert learning_curve_plot(res, ax=ax) is ax
    assert legend_texts(ax) == ["direct", "transfer"]
    lines = ax.get_lines()
    assert [line.get_xdata().tolist() for line in lines] == [[50, 100, 200]] * 2  # sorted by n
    assert lines[0].get_ydata().tolist() == [0.8, 0.7, 0.6]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "MAE"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50", "100", "200"]


def test_learning_curve_plot_summarizes_repeats():
    res = pd.DataFrame({"n": [10, 10, 20, 20], "model": ["a"] * 4, "rmse": [1.0, 3.0, 1.0, 1.0]})
    ax = learning_curve_plot(res, metric="rmse")
    assert ax.get_lines()[0].get_ydata().tolist() == [2.0, 1.0]
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['mae'\]"):
        learning_curve_plot(res)


def test_learning_curve_table_feeds_the_plot():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(0, 0.1, 120)
    res = learning_curve({"mean": DummyRegressor(), "linear": LinearRegression()}, X, y,
                         sizes=[10, 40], n_repeats=2, random_state=0)
    assert res[["n", "model"]].values.tolist() == [[10, "mean"], [10, "linear"],
                                                   [40, "mean"], [40, "linear"]]
    lin, mean = res[res.model == "linear"], res[res.model == "mean"]
    assert (lin["mae"].to_numpy() < 0.3).all() and (mean["mae"].to_numpy() > 1).all()
    again = learning_curve({"mean": DummyRegressor(), "linear": LinearRegression()},
                           list(X), y, sizes=[10, 40], n_repeats=2, random_state=0)
    pd.testing.assert_frame_equal(res, again)  # lists and arrays give the same draws
    assert len(learning_curve_plot(res).get_lines()) == 2
    with pytest.raises(ValueError, match=r"sizes \[200\] do not fit in the 96"):
        learning_curve({"m": DummyRegressor()}, X, y, sizes=[200])
    with pytest.raises(ValueError, match="X has 120 items but y has 119"):
        learning_curve({"m": DummyRegressor()}, X, y[:-1], sizes=[10])


# --------------------------------------------------------------------------- source ranking
def test_source_ranking_plot_of_a_fitted_transfer_model(tiny_library):
    from skmdl.transfer import TransferRegressor
    from tinylib import synthetic_task

    X, y = synthetic_task(n=120, seed=3)
    model = TransferRegressor(library=str(tiny_library), n_sources=2, head=Ridge(),
                              screening_cv=3, calibration_cv=None, random_state=0).fit(X, y)
    fig, ax = plt.subplots()
    assert source_ranking_plot(model, ax=ax) is ax
    ids = model.screening_["id"].tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == ids
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    np.testing.assert_allclose([b.get_width() for b in bars], model.screening_["cv_mae"])
    kept = {b.get_facecolor() for b, i in zip(bars, ids) if i in model.sources_}
    dropped = {b.get_facecolor() for b, i in zip(bars, ids) if i not in model.sources_}
    assert len(kept) == len(dropped) == 1 and kept != dropped
    assert legend_texts(ax) == ["kept", "screened out"]
    assert ax.get_xlabel() == "inner-CV MAE"
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # best source on top


def test_source_ranking_plot_of_a_table_and_its_errors():
    table = pd.DataFrame({"source": list("abcde"), "loss": [5.0, 1.0, 4.0, 2.0, 3.0]})
    ax = source_ranking_plot(table, top=3)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "d", "e"]
    assert len(ax.patches) == 3 and ax.get_legend() is None  # nothing marked as kept
    assert ax.get_title() == "best 3 of 5 candidate sources"
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['loss'\]"):
        source_ranking_plot(table.rename(columns={"loss": "mae"}))
    with pytest.raises(ValueError, match="top must be a positive integer"):
        source_ranking_plot(table, top=0)
    from sklearn.exceptions import NotFittedError

    from skmdl.transfer import TransferRegressor

    with pytest.raises(NotFittedError, match="screening_"):
        source_ranking_plot(TransferRegressor())


# --------------------------------------------------------------------------- CSP ranking
def rock_salt(a=5.64):
    """Primitive rock-salt cell (Structure.from_spacegroup takes seconds)."""
    fcc = Lattice(np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) * a / 2)
    return Structure(fcc, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def cesium_chloride(a=3.3):
    return Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_csp_ranking_plot_marks_the_matching_candidate():
    cands = [Candidate(cesium_chloride(), "random", energy_per_atom=-3.30),
             Candidate(rock_salt(5.70), "template", energy_per_atom=-3.25),  # the true one
             Candidate(cesium_chloride(3.5), "wyckoff", energy_per_atom=-3.10),
             Candidate(cesium_chloride(3.6), "template", energy_per_atom=float("nan"))]
    fig, ax = plt.subplots()
    assert csp_ranking_plot(cands, true_structure=rock_salt(), ax=ax) is ax
    by_label = dict(zip(legend_texts(ax), scatter_points(ax)))
    assert list(by_label) == ["random", "template", "wyckoff", "matches true structure"]
    np.testing.assert_allclose(by_label["template"].get_offsets(), [[2, -3.25]])  # NaN left out
    np.testing.assert_allclose(by_label["matches true structure"].get_offsets(), [[2, -3.25]])
    assert ax.get_title() == "NaCl: first match at rank 2 of 4 (1 without energy)"
    assert ax.get_xlabel() == "rank" and ax.get_ylabel() == "energy (eV/atom)"


def test_csp_ranking_plot_without_truth_or_match_and_custom_matcher():
    cands = [Candidate(cesium_chloride(), "random", energy_per_atom=-3.3)]
    ax = csp_ranking_plot(cands)
    assert ax.get_title() == "NaCl" and legend_texts(ax) == ["random"]
    ax = csp_ranking_plot(cands, true_structure=rock_salt())
    assert ax.get_title() == "NaCl: no match in 1" and "matches true structure" not in \
        legend_texts(ax)
    seen = []
    ax = csp_ranking_plot(cands, true_structure=rock_salt(),
                          matcher=lambda a, b: seen.append((a, b)) or True)
    assert len(seen) == 1 and seen[0][0] is cands[0].structure
    assert ax.get_title().endswith("first match at rank 1 of 1")


def test_csp_ranking_plot_rejects_bad_input():
    with pytest.raises(ValueError, match="candidates is empty"):
        csp_ranking_plot([])
    with pytest.raises(TypeError, match=r"candidates\[0\] is a Structure"):
        csp_ranking_plot([rock_salt()])
    mixed = [Candidate(rock_salt(), "template"),
             Candidate(Structure(Lattice.cubic(3), ["Si"], [[0, 0, 0]]), "template")]
    with pytest.raises(ValueError, match=r"2 formulas \['NaCl', 'Si'\]"):
        csp_ranking_plot(mixed)
    with pytest.raises(TypeError, match="matcher must be"):
        csp_ranking_plot(mixed[:1], true_structure=rock_salt(), matcher=3)
