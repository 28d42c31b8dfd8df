"""The main job: a descriptor + model demo on data bundled with the package.

Run it with ``python -m skmdl.demo`` (or ``skmdl demo``). It needs no
``SKMDL_DATA``: it featurizes the bundled Matbench steels task (312 alloy
compositions -> yield strength) and cross-validates a random forest on
matbench's official folds.
"""

from __future__ import annotations

import time

from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline

from .datasets import load_sample
from .descriptors import CompositionFeaturizer


def run(n_estimators: int = 300, n_jobs: int | None = None, verbose: bool = True) -> dict:
    """Cross-validate ``CompositionFeaturizer -> RandomForestRegressor`` on matbench_steels.

    Parameters
    ----------
    n_estimators : int, default=300
        Trees of the random forest.
    n_jobs : int or None, default=None
        Parallel jobs of the forest and the cross-validation.
    verbose : bool, default=True
        Print the result.

    Returns
    -------
    dict
        ``mae_mean``, ``mae_std`` (MPa), ``n_samples``, ``n_features``, ``seconds``.

    Examples
    --------
    >>> result = run(n_estimators=10, verbose=False)
    >>> result["n_samples"], 50 < result["mae_mean"] < 250
    (312, True)
    """
    t0 = time.perf_counter()
    X, y = load_sample("matbench_steels")
    featurizer = CompositionFeaturizer(stoichiometry=True, element_fractions=True)
    model = make_pipeline(
        featurizer,
        RandomForestRegressor(n_estimators=n_estimators, random_state=0, n_jobs=n_jobs),
    )
    folds = KFold(5, shuffle=True, random_state=18012019)  # matbench's official folds
    cv = cross_validate(model, X, y, cv=folds, scoring="neg_mean_absolute_error")
    mae = -cv["test_score"]
    n_features = len(featurizer.fit(X).get_feature_names_out())
    result = {
        "mae_mean": float(mae.mean()),
        "mae_std": float(mae.std()),
        "n_samples": len(X),
        "n_features": n_features,
        "seconds": time.perf_counter() - t0,
    }
    if verbose:
        print(f"matbench_steels (bundled): {len(X)} compositions -> yield strength (MPa)")
        print(f"features: CompositionFeaturizer magpie stats + stoichiometry + "
              f"element fractions = {n_features} columns")
        print("model: RandomForestRegressor(n_estimators=%d), official matbench 5 folds"
              % n_estimators)
        print("fold MAE (MPa): " + ", ".join(f"{m:.1f}" for m in mae))
        print(f"MAE = {result['mae_mean']:.1f} ± {result['mae_std']:.1f} MPa "
              f"(matbench RF-SCM/Magpie reference: 103.5 MPa)")
        print(f"done in {result['seconds']:.1f} s")
    return result


def main(argv=None) -> int:
    """Run the demo on all cores (``python -m skmdl.demo``).

    Parameters
    ----------
    argv : list of str, default=None
        Ignored (the demo takes no arguments).

    Returns
    -------
    int
        The exit code, 0.
    """
    run(n_jobs=-1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
