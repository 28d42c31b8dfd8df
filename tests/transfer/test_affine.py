import numpy as np
import pandas as pd
import pytest

from skmdl.library import ModelLibrary
from skmdl.transfer import AffineTransferRegressor
from tinylib import synthetic_task


@pytest.fixture(scope="module")
def data():
    X, y = synthetic_task(n=300, seed=5)
    return pd.Series(X), y


def source_output(lib, model_id, X):
    return lib.predict(model_id, list(X)).astype(np.float64)


def test_fit_predict_and_decomposition(tiny_library, data):
    X, y = data
    m = AffineTransferRegressor(sources=["toy_a-000"], library=str(tiny_library),
                                n_components=30, random_state=0).fit(X[:200], y[:200])
    assert np.all(np.diff(m.objective_) <= 1e-9 * np.abs(m.objective_[:-1]))  # monotone
    g1, g2, g3 = m.decompose(X[200:])
    np.testing.assert_allclose(m.predict(X[200:]), g1 + g2 * g3)
    assert m.score(X[200:], y[200:]) > 0.5


def test_learns_an_affine_shift_of_the_source(tiny_library, data):
    """Target = 3 * source + offset depending on x: the affine model recovers it."""
    X, _ = data
    lib = ModelLibrary(tiny_library)
    s = source_output(lib, "toy_a-000", X)
    y = 3.0 * s + 0.5
    m = AffineTransferRegressor(sources=["toy_a-000"], library=str(tiny_library),
                                n_components=40, alpha1=1e-3, alpha2=1e-3, alpha3=1e-3,
                                random_state=0).fit(X[:200], y[:200])
    err = np.abs(m.predict(X[200:]) - y[200:]).mean()
    assert err < 0.1 * np.abs(y[200:] - y[200:].mean()).mean(), err


def test_hidden_representation_and_user_descriptors(tiny_library, data):
    from skmdl.descriptors import CompositionFeaturizer

    X, y = data
    m = AffineTransferRegressor(sources=["toy_a-000", "toy_b-001"], source_features="hidden",
                                descriptors=CompositionFeaturizer(stats=["mean"]),
                                library=str(tiny_library), n_components=20,
                                random_state=0).fit(X[:150], y[:150])
    assert m.predict(X[150:]).shape == (150,)


def test_errors(tiny_library, data):
    X, y = data
    with pytest.raises(ValueError, match="at least one source"):
        AffineTransferRegressor(library=str(tiny_library)).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        AffineTransferRegressor(sources=["toy_a-000"], library=str(tiny_library)).fit(
            X, np.full(len(X), np.nan))
