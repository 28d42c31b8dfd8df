"""Tests of skmdl.datasets: shared-data loaders, matbench folds and bundled samples."""

import doctest
import gzip
import hashlib
import io

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

import skmdl.datasets._base as base
import skmdl.datasets._home as home
from skmdl.datasets import (
    CLASSIFICATION_TASKS,
    KNOWN_TASKS,
    DataNotFoundError,
    data_home,
    is_classification,
    list_samples,
    list_tasks,
    load_sample,
    load_task,
    matbench_folds,
)

SEED = 18012019

# Test fold (0-4) of every row of matbench_steels, from matbench's own
# matbench/tests/msonability_matbench_steels.json (mb-steels-001 = row 0).
STEELS_FOLDS = (
    "4301043411414344242023214004413023044441033300123343224333214130201012003240024223"
    "2243230133013014114240302041013144113020212320432204141012011440312411231121440222"
    "2132243230030401003112431111223041431234432200412211224232240133411040212144203034"
    "313410302302223414300403300103211304023311203430341140210334240044"
)
# sha256 of the same string for matbench_glass (5680 rows, stratified), from
# matbench/tests/scores_matbench_glass_perfect.json.
GLASS_FOLDS_SHA256 = "a7ef918f92dda7f288cb68dc156c87393ef4e1798488229032bc9728db26cb25"


def fold_string(folds, n):
    assign = np.full(n, -1)
    for k, (_, test) in enumerate(folds):
        assign[test] = k
    return "".join(map(str, assign))


def assert_partition(folds, n):
    assert len(folds) == 5
    seen = np.zeros(n, dtype=int)
    for train, test in folds:
        assert train.dtype.kind == "i" and test.dtype.kind == "i"
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == n
        seen[test] += 1
    assert (seen == 1).all(), "every row must be in exactly one test fold"


def write_table(path, df):
    with gzip.open(path, "wt") as fh:
        df.to_csv(fh, index=False)


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A tiny SKMDL_DATA folder with one regression task (with split) and one classification task."""
    comp = tmp_path / "composition"
    comp.mkdir()
    write_table(
        comp / "matbench_glass.csv.gz",
        pd.DataFrame({"formula": ["Al", "NaN", "Fe2O3", "NA"], "target": [0.0, 1.0, 1.0, 0.0]}),
    )
    write_table(
        comp / "my_task.csv.gz",
        pd.DataFrame(
            {"formula": ["NaCl", "KBr", "None"], "target": [1.5, 2.5, 3.5], "split": ["train", "val", "test"]}
        ),
    )
    monkeypatch.setenv("SKMDL_DATA", str(tmp_path))
    return tmp_path


# ---------------------------------------------------------------- offline


def test_unset_env_raises(monkeypatch):
    monkeypatch.delenv("SKMDL_DATA", raising=False)
    for call in (data_home, list_tasks, lambda: load_task("matbench_steels")):
        with pytest.raises(DataNotFoundError, match="SKMDL_DATA") as info:
            call()
        assert isinstance(info.value, FileNotFoundError)
        assert "shared data folder" in str(info.value)


def test_empty_env_raises(monkeypatch):
    monkeypatch.setenv("SKMDL_DATA", "")
    with pytest.raises(DataNotFoundError, match="not set"):
        data_home()


def test_missing_folder_raises(monkeypatch, tmp_path):
    monkeypatch.setenv("SKMDL_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="not an existing folder"):
        data_home()
    monkeypatch.setenv("SKMDL_DATA", str(tmp_path))  # exists, but no composition/
    with pytest.raises(DataNotFoundError, match="composition"):
        list_tasks()


def test_fake_folder_loads(fake_data):
    assert data_home() == fake_data
    assert list_tasks() == ["matbench_glass", "my_task"]
    X, y = load_task("matbench_glass")
    # "NaN" (sodium nitride) and "NA" are formulas, not missing values
    assert X.tolist() == ["Al", "NaN", "Fe2O3", "NA"]
    assert X.name == "formula" and y.name == "matbench_glass"
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 1, 0]
    X, y, split = load_task("my_task", return_split=True)
    assert X.tolist() == ["NaCl", "KBr", "None"]
    assert y.dtype == np.float64 and y.tolist() == [1.5, 2.5, 3.5]
    assert split.name == "split" and split.tolist() == ["train", "val", "test"]
    _, _, split = load_task("matbench_glass", return_split=True)
    assert split is None
    assert not is_classification("my_task")


def test_missing_file_of_known_task(fake_data):
    with pytest.raises(DataNotFoundError) as info:
        load_task("matbench_steels")
    assert str(fake_data / "composition" / "matbench_steels.csv.gz") in str(info.value)


def test_unknown_task_lists_close_matches(fake_data):
    with pytest.raises(ValueError, match="matbench_steels"):
        load_task("matbench_steel")
    with pytest.raises(ValueError, match="matbench_expt_gap"):
        load_task("expt_gap")
    with pytest.raises(ValueError, match="my_task"):
        load_task("my_tsk")
    with pytest.raises(ValueError, match="unknown task"):
        load_task("../composition/my_task")
    with pytest.raises(TypeError):
        load_task(3)
    with pytest.raises(ValueError, match="unknown task"):
        is_classification("no_such_task")


def test_is_classification():
    assert {t for t in KNOWN_TASKS if is_classification(t)} == {
        "matbench_expt_is_metal",
        "matbench_glass",
        "matbench_mp_is_metal",
    }
    assert CLASSIFICATION_TASKS <= set(KNOWN_TASKS)


def test_samples_load_offline(monkeypatch):
    monkeypatch.delenv("SKMDL_DATA", raising=False)
    assert list_samples() == ["matbench_expt_gap_1000", "matbench_steels"]
    X, y = load_sample("matbench_steels")
    assert len(X) == len(y) == 312
    assert X.index.tolist() == list(range(312))
    assert np.isfinite(y).all() and y.between(1000, 2600).all()
    X, y = load_sample("matbench_expt_gap_1000")
    assert len(X) == len(y) == 1000 and y.name == "matbench_expt_gap_1000"
    assert X.index.name == "row" and X.index.is_monotonic_increasing and X.index.is_unique
    assert X.index.min() >= 0 and X.index.max() < 4604
    assert (y >= 0).all() and X.str.len().gt(0).all()
    with pytest.raises(ValueError, match="matbench_steels"):
        load_sample("matbench_steel")


def test_steels_folds_equal_matbench_offline():
    X, y = load_sample("matbench_steels")
    folds = matbench_folds("matbench_steels", X, y)
    assert_partition(folds, 312)
    assert fold_string(folds, 312) == STEELS_FOLDS
    # X alone is enough for regression
    assert fold_string(matbench_folds("matbench_steels", X), 312) == STEELS_FOLDS


def test_folds_argument_errors():
    X, y = load_sample("matbench_steels")
    with pytest.raises(ValueError, match="not a matbench task"):
        matbench_folds("oqmd_bandgap", X, y)
    with pytest.raises(ValueError, match="different lengths"):
        matbench_folds("matbench_steels", X, y[:-1])


def test_stratified_folds_with_given_y():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    folds = matbench_folds("matbench_glass", np.zeros(500), y)
    assert_partition(folds, 500)
    ref = StratifiedKFold(5, shuffle=True, random_state=SEED).split(np.zeros((500, 1)), y)
    for (tr, te), (rtr, rte) in zip(folds, ref):
        np.testing.assert_array_equal(te, rte)
        np.testing.assert_array_equal(tr, rtr)
        assert abs(y[te].sum() - y.sum() / 5) <= 1


def _run_doctest(name):
    finder = doctest.DocTestFinder()
    tests = {t.name.rsplit(".", 1)[-1]: t for module in (base, home) for t in finder.find(module)}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    out = io.StringIO()
    runner.run(tests[name], out=out.write)
    assert runner.failures == 0, out.getvalue()
    assert runner.tries > 0


@pytest.mark.parametrize(
    "name", ["is_classification", "list_samples", "load_sample", "matbench_folds"]
)
def test_offline_docstring_examples(name):
    _run_doctest(name)


# ---------------------------------------------------------------- shared data


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["data_home", "list_tasks", "load_task"])
def test_shared_docstring_examples(name, shared_data):
    _run_doctest(name)


@pytest.mark.shared_data
def test_every_task_loads(shared_data):
    tasks = list_tasks()
    assert set(KNOWN_TASKS) <= set(tasks)
    for name in tasks:
        X, y, split = load_task(name, return_split=True)
        assert isinstance(X, pd.Series) and isinstance(y, pd.Series), name
        assert len(X) == len(y) > 0, name
        assert X.name == "formula" and y.name == name
        assert X.index.equals(pd.RangeIndex(len(X))) and y.index.equals(X.index), name
        assert X.map(lambda s: isinstance(s, str) and len(s) > 0).all(), name
        assert pd.api.types.is_numeric_dtype(y) and np.isfinite(y.to_numpy()).all(), name
        if is_classification(name):
            assert y.dtype == np.int64 and set(y.unique()) == {0, 1}, name
        if split is not None:
            assert len(split) == len(X), name
            assert set(split.unique()) <= {"train", "val", "test"}, name


@pytest.mark.shared_data
def test_row_order_as_in_file(shared_data):
    path = shared_data / "composition" / "matbench_steels.csv.gz"
    raw = pd.read_csv(path)
    X, y = load_task("matbench_steels")
    assert X.tolist() == raw["formula"].tolist()
    np.testing.assert_array_equal(y.to_numpy(), raw["target"].to_numpy())
    # the formula "NaN" (sodium nitride) survives loading
    X, _ = load_task("mp_e_hull")
    assert not X.isna().any() and (X == "NaN").any()


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name", [t for t in KNOWN_TASKS if t.startswith("matbench_") and "mp_" not in t]
)
def test_matbench_folds_equal_sklearn(name, shared_data):
    X, y = load_task(name)
    folds = matbench_folds(name)
    assert_partition(folds, len(X))
    if is_classification(name):
        ref = StratifiedKFold(5, shuffle=True, random_state=SEED).split(X, y)
        for _, test in folds:  # each fold keeps the class balance
            assert abs(y.iloc[test].mean() - y.mean()) < 0.01
    else:
        ref = KFold(5, shuffle=True, random_state=SEED).split(X)
    for (tr, te), (rtr, rte) in zip(folds, ref):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)
    # X/y given explicitly gives the same folds
    for (tr, te), (tr2, te2) in zip(folds, matbench_folds(name, X, y)):
        np.testing.assert_array_equal(te, te2)


@pytest.mark.shared_data
def test_large_matbench_folds_partition(shared_data):
    for name in ("matbench_mp_gap", "matbench_mp_is_metal"):
        X, y = load_task(name)
        folds = matbench_folds(name, X, y)
        assert_partition(folds, len(X))


@pytest.mark.shared_data
def test_folds_equal_matbench_reference(shared_data):
    assert fold_string(matbench_folds("matbench_steels"), 312) == STEELS_FOLDS
    glass = fold_string(matbench_folds("matbench_glass"), 5680)
    assert hashlib.sha256(glass.encode()).hexdigest() == GLASS_FOLDS_SHA256


@pytest.mark.shared_data
def test_samples_match_shared_data(shared_data, tmp_path):
    for sample, (task, n) in base.SAMPLES.items():
        X, y = load_sample(sample)
        Xf, yf = load_task(task)
        assert len(X) == (n or len(Xf))
        assert X.tolist() == Xf.loc[X.index].tolist()
        np.testing.assert_array_equal(y.to_numpy(), yf.loc[X.index].to_numpy())
    # the bundled files are reproducible byte for byte
    for path in base.build_samples(tmp_path):
        bundled = (base.resources.files("skmdl.datasets") / "data" / path.name).read_bytes()
        assert path.read_bytes() == bundled, path.name
