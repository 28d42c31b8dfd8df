import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from skmdl.transfer import TransferRegressor
from skmdl.transfer.uq import calibration_curve, interval_coverage, plot_calibration
from tinylib import synthetic_task


def test_interval_coverage():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    iv = np.array([[-1, 1], [0, 0.5], [1, 3], [3, 4]])
    cov, width = interval_coverage(y, iv)
    assert cov == 0.75 and width == pytest.approx((2 + 0.5 + 2 + 1) / 4)
    with pytest.raises(ValueError, match="shape"):
        interval_coverage(y, iv[:2])


def test_calibration_curve_of_transfer_model(tiny_library, tmp_path):
    X, y = synthetic_task(n=500, seed=3)
    X = pd.Series(X)
    m = TransferRegressor(library=str(tiny_library), n_sources=4, head=Ridge(),
                          calibration_cv=5, random_state=0).fit(X[:350], y[:350])
    curve = calibration_curve(m, X[350:], y[350:])
    assert list(curve.columns) == ["nominal", "observed", "mean_width"]
    assert curve["mean_width"].is_monotonic_increasing
    assert (np.abs(curve["observed"] - curve["nominal"]) < 0.12).all(), curve
    ax = plot_calibration(curve, label="tiny")
    path = tmp_path / "calibration.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
