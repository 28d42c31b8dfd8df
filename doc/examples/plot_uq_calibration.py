"""
Calibrated prediction intervals
===============================

:meth:`TransferRegressor.predict_interval <skmdl.transfer.TransferRegressor.predict_interval>`
gives intervals with a nominal coverage ``1 - alpha``. They are calibrated on
the training data only: in ``fit``, cross-validated residuals of the whole
ensemble are divided by the ensemble's spread, and at prediction time a
quantile of those normalized residuals multiplies the spread at the new point.

This example fits a transfer model on 600 experimental band gaps (the bundled
``matbench_expt_gap_1000`` sample) and checks on the other 400 how often the
intervals contain the measured gap.
"""

# %%
# Fit with interval calibration
# -----------------------------
# Band-gap source models (OQMD, AFLOW, Materials Project DFT gaps) are the
# candidates; ``calibration_cv=5`` collects the residuals for the intervals.
import numpy as np
from sklearn.ensemble import ExtraTreesRegressor

from skmdl.datasets import load_sample
from skmdl.library import ModelLibrary
from skmdl.transfer import TransferRegressor

X, y = load_sample("matbench_expt_gap_1000")
rng = np.random.default_rng(0)
test = rng.permutation(len(X))[:400]
train = np.setdiff1d(np.arange(len(X)), test)

gap_models = ModelLibrary.default().search(text="band gap", kind="inorganic")["id"]
candidates = [i for i in gap_models if i.endswith(("-000", "-001"))]
model = TransferRegressor(
    sources=candidates,
    n_sources=3,
    head=ExtraTreesRegressor(n_estimators=60, max_features=0.3, random_state=0),
    calibration_cv=5,
    random_state=0,
)
model.fit(X.iloc[train], y.iloc[train])
mean, std = model.predict(X.iloc[test], return_std=True)
print(f"test MAE: {np.abs(mean - y.iloc[test]).mean():.3f} eV; sources: {model.sources_}")

# %%
# Coverage of the 90 % intervals
# ------------------------------
from skmdl.transfer.uq import calibration_curve, interval_coverage

intervals = model.predict_interval(X.iloc[test], alpha=0.1)
coverage, width = interval_coverage(y.iloc[test], intervals)
print(f"90 % intervals: {coverage:.1%} of the test gaps inside, mean width {width:.2f} eV")

# %%
# Calibration curve
# -----------------
# Observed against nominal coverage at several levels; a calibrated model
# stays on the diagonal.
curve = calibration_curve(model, X.iloc[test], y.iloc[test],
                          levels=(0.5, 0.6, 0.7, 0.8, 0.9, 0.95))
print(curve.round(3).to_string(index=False))

import matplotlib.pyplot as plt

from skmdl.plotting import calibration_plot, parity_plot

fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
calibration_plot(curve, ax=axes[0], label="transfer, 5-fold CV calibration")
parity_plot(y.iloc[test], mean, intervals=intervals, ax=axes[1], label="transfer",
            units="eV")
fig.tight_layout()

# %%
# The intervals are as good as the assumption behind them: test compounds like
# the training compounds. Under extrapolation (e.g. the highest thermal
# conductivities of the LTC example) they cover less than nominal.
