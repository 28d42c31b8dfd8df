"""The scikit-learn contract, checked on skmdl's estimators with materials inputs.

``sklearn.utils.estimator_checks.check_estimator`` generates numeric arrays, so
it skips (or fails on) estimators whose inputs are formulas, structures or
SMILES. This module runs the sklearn checks that do not depend on generated
data individually, and adds data-aware checks that take the caller's own
inputs ``X`` (and ``y``).

Use it from tests::

    @pytest.mark.parametrize("check", skmdl_checks(est, X, y), ids=check_id)
    def test_contract(check):
        check()

or all at once with :func:`check_skmdl_estimator`.
"""

from __future__ import annotations

import copy
import pickle
from functools import partial

import numpy as np
import pandas as pd
from sklearn import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as sk

#: sklearn checks that build their own estimator state without data, or only
#: pass invalid parameters (validation must happen before data are touched).
#: ``check_param_validation`` runs for every estimator: one without
#: ``_parameter_constraints`` fails it (and :func:`check_parameter_constraints`).
SKLEARN_CHECKS = (
    "check_parameters_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_param_validation",
)

_OUTPUT_METHODS = ("transform", "predict", "predict_proba", "decision_function")


def _name(est):
    return type(est).__name__


def _outputs(est, X):
    """Every output method's result on X, as arrays (or DataFrames)."""
    return {m: getattr(est, m)(X) for m in _OUTPUT_METHODS if hasattr(est, m)}


def _leaves(obj):
    """Numbers and strings of a nested output, in a fixed order (records via ``as_dict``)."""
    if isinstance(obj, (str, bool, int, float, np.number)) or obj is None:
        yield obj
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            yield str(k)
            yield from _leaves(obj[k])
    elif hasattr(obj, "as_dict"):
        yield from _leaves(obj.as_dict())
    else:
        for item in obj:
            yield from _leaves(item)


def _comparable(out):
    """``(float array, strings)`` of an output: the array itself when it is numeric, else
    the numbers and the strings of its records (e.g. lists of crystal-structure candidates)."""
    try:
        return np.asarray(out, dtype=float), []
    except (TypeError, ValueError):
        flat = list(_leaves(out))
        nums = [float(x) for x in flat if isinstance(x, (bool, int, float, np.number))]
        return np.asarray(nums), [x for x in flat if isinstance(x, str) or x is None]


def _assert_same(a, b, what, exact=True):
    (x, sx), (y, sy) = _comparable(a), _comparable(b)
    assert sx == sy, f"{what}: non-numeric parts differ"
    if exact:
        np.testing.assert_array_equal(x, y, err_msg=what)
    else:
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-9, err_msg=what)


def _assert_same_outputs(a, b, what, exact=True):
    assert a.keys() == b.keys(), f"{what}: different methods {a.keys()} vs {b.keys()}"
    for m in a:
        _assert_same(a[m], b[m], f"{what}: {m} differs", exact)


_CHECK_PARAMETERS = """
    Parameters
    ----------
    est : estimator instance
        The estimator under test (cloned, never modified).
    X : list or pandas Series
        Its inputs (formulas, structures, SMILES or a feature matrix).
    y : array-like or None
        Its targets.
"""


def _check(fn):
    """A data-aware check: its docstring gets the parameters every check shares."""
    fn.__doc__ = fn.__doc__.rstrip() + "\n" + _CHECK_PARAMETERS
    return fn


@_check
def check_parameter_constraints(est, X, y):
    """Every parameter has an entry in ``_parameter_constraints`` (validated by ``fit``)."""
    constraints = getattr(est, "_parameter_constraints", None)
    assert isinstance(constraints, dict), (
        f"{_name(est)} has no _parameter_constraints: state what each parameter accepts")
    params = set(est.get_params(deep=False))
    missing, extra = params - set(constraints), set(constraints) - params
    assert not missing, f"{_name(est)}._parameter_constraints has no entry for {sorted(missing)}"
    assert not extra, f"{_name(est)}._parameter_constraints names no parameter {sorted(extra)}"


@_check
def check_clone(est, X, y):
    """clone() keeps the parameters and drops learned state."""
    fitted = clone(est).fit(X, y)
    c = clone(fitted)
    assert type(c) is type(est)
    p1, p2 = est.get_params(deep=False), c.get_params(deep=False)
    assert p1.keys() == p2.keys()
    for k in p1:
        assert p1[k] is p2[k] or repr(p1[k]) == repr(p2[k]), f"clone changed parameter {k}"
    learned = [a for a in vars(c) if a.endswith("_") and not a.startswith("_")]
    assert not learned, f"clone of a fitted estimator keeps learned attributes {learned}"


@_check
def check_params_round_trip(est, X, y):
    """get_params -> set_params -> get_params is the identity."""
    e = clone(est)
    params = e.get_params(deep=False)
    e.set_params(**params)
    after = e.get_params(deep=False)
    for k in params:
        assert params[k] is after[k], f"set_params did not store {k} untouched"


@_check
def check_fit_returns_self(est, X, y):
    """fit returns the estimator itself."""
    e = clone(est)
    assert e.fit(X, y) is e, f"{_name(e)}.fit must return self"


@_check
def check_not_fitted(est, X, y):
    """Every output method raises NotFittedError before fit."""
    e = clone(est)
    methods = [m for m in _OUTPUT_METHODS if hasattr(e, m)]
    assert methods, f"{_name(e)} has no output method"
    for m in methods:
        try:
            getattr(e, m)(X)
        except NotFittedError:
            continue
        except AttributeError:  # available_if hides methods of unfitted meta-estimators
            continue
        raise AssertionError(f"{_name(e)}.{m} before fit did not raise NotFittedError")


@_check
def check_pickle_round_trip(est, X, y):
    """A pickled and unpickled fitted estimator gives identical outputs."""
    e = clone(est).fit(X, y)
    before = _outputs(e, X)
    e2 = pickle.loads(pickle.dumps(e))
    _assert_same_outputs(before, _outputs(e2, X), "pickle round trip")


@_check
def check_fit_does_not_mutate_input(est, X, y):
    """fit leaves its input X as it was."""
    X_copy = copy.deepcopy(X)
    clone(est).fit(X, y)
    if isinstance(X, (pd.Series, pd.DataFrame)):
        assert X.equals(X_copy), "fit modified X"
    elif isinstance(X, np.ndarray):
        assert np.array_equal(X, X_copy), "fit modified X"
    else:
        assert list(X) == list(X_copy), "fit modified X"


@_check
def check_fit_idempotent(est, X, y):
    """Fitting twice gives the same outputs as fitting once."""
    e = clone(est)
    first = _outputs(e.fit(X, y), X)
    second = _outputs(e.fit(X, y), X)
    _assert_same_outputs(first, second, "refit", exact=False)


@_check
def check_set_output_pandas(est, X, y):
    """set_output(transform="pandas") returns a DataFrame named by get_feature_names_out."""
    e = clone(est).set_output(transform="pandas").fit(X, y)
    Xt = e.transform(X)
    assert isinstance(Xt, pd.DataFrame), "set_output(transform='pandas') gave no DataFrame"
    assert list(Xt.columns) == list(e.get_feature_names_out())
    assert len(Xt) == len(X)
    if isinstance(X, pd.Series):
        assert Xt.index.equals(X.index), "DataFrame output lost the input index"


@_check
def check_n_jobs_invariance(est, X, y):
    """Results do not depend on n_jobs."""
    one = _outputs(clone(est).set_params(n_jobs=1).fit(X, y), X)
    two = _outputs(clone(est).set_params(n_jobs=2).fit(X, y), X)
    _assert_same_outputs(one, two, "n_jobs=1 vs n_jobs=2", exact=False)


@_check
def check_random_state_determinism(est, X, y):
    """Same random_state, same results."""
    a = _outputs(clone(est).set_params(random_state=0).fit(X, y), X)
    b = _outputs(clone(est).set_params(random_state=0).fit(X, y), X)
    _assert_same_outputs(a, b, "random_state=0 twice", exact=False)


@_check
def check_output_length(est, X, y):
    """One output row per input item, also for a subset and a single item."""
    e = clone(est).fit(X, y)
    for m in _OUTPUT_METHODS:
        if hasattr(e, m):
            assert len(getattr(e, m)(X)) == len(X)
            sub = X.iloc[:1] if hasattr(X, "iloc") else list(X)[:1]
            assert len(getattr(e, m)(sub)) == 1


@_check
def check_subset_invariance(est, X, y):
    """Outputs for a row do not depend on the other rows of the batch."""
    e = clone(est).fit(X, y)
    n = min(len(X), 5)
    head = X.iloc[:n] if hasattr(X, "iloc") else list(X)[:n]
    full = _outputs(e, X)
    part = _outputs(e, head)
    for m in full:
        try:
            np.testing.assert_allclose(
                np.asarray(full[m], dtype=float)[:n],
                np.asarray(part[m], dtype=float),
                rtol=1e-5,
                atol=1e-7,
                err_msg=f"{m} on a subset differs",
            )
        except (TypeError, ValueError):  # records (e.g. structure candidates): row by row
            for i in range(n):
                _assert_same(full[m][i], part[m][i], f"{m} on a subset differs (row {i})",
                             exact=False)


DATA_CHECKS = (
    check_parameter_constraints,
    check_clone,
    check_params_round_trip,
    check_fit_returns_self,
    check_not_fitted,
    check_pickle_round_trip,
    check_fit_does_not_mutate_input,
    check_fit_idempotent,
    check_output_length,
    check_subset_invariance,
)


def skmdl_checks(estimator, X, y=None):
    """All checks that apply to ``estimator``, as zero-argument callables.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check (cloned by every check, never modified).
    X : list or pandas Series
        The estimator's inputs (formulas, structures, SMILES).
    y : array-like, default=None
        Targets, for estimators that need them.

    Returns
    -------
    list of callables
        Each with a ``.__name__`` like ``"check_pickle_round_trip"``.

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> checks = skmdl_checks(CompositionFeaturizer(), ["NaCl", "MgO"])
    >>> "check_parameter_constraints" in [c.__name__ for c in checks]
    True
    """
    checks = []
    name = _name(estimator)
    for check_name in SKLEARN_CHECKS:
        fn = getattr(sk, check_name, None)
        if fn is None:  # older scikit-learn
            continue
        checks.append(_named(partial(_run_sklearn_check, fn, name, estimator), check_name))
    data_checks = list(DATA_CHECKS)
    params = estimator.get_params(deep=False)
    if hasattr(estimator, "transform") and hasattr(estimator, "get_feature_names_out"):
        data_checks.append(check_set_output_pandas)
    if "n_jobs" in params:
        data_checks.append(check_n_jobs_invariance)
    if "random_state" in params:
        data_checks.append(check_random_state_determinism)
    for fn in data_checks:
        checks.append(_named(partial(fn, estimator, X, y), fn.__name__))
    return checks


def _run_sklearn_check(fn, name, estimator):
    fn(name, clone(estimator))


def _named(fn, name):
    fn.__name__ = name
    return fn


def check_id(check):
    """pytest id of a check from :func:`skmdl_checks`.

    Parameters
    ----------
    check : callable
        One of the checks :func:`skmdl_checks` returns.

    Returns
    -------
    str
    """
    return check.__name__


def check_skmdl_estimator(estimator, X, y=None):
    """Run every applicable check; raise on the first failure.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check.
    X : list or pandas Series
        Its inputs.
    y : array-like, default=None
        Its targets, for estimators that need them.

    Raises
    ------
    AssertionError
        Naming the estimator and the first check it failed.

    Examples
    --------
    >>> from skmdl.descriptors import CompositionFeaturizer
    >>> check_skmdl_estimator(CompositionFeaturizer(), ["Fe2O3", "NaCl", "SiO2"])
    """
    for check in skmdl_checks(estimator, X, y):
        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{_name(estimator)} failed {check.__name__}: {exc}") from exc
