"""The main job: transfer from the embedded model library beside a model trained from scratch.

Run it with ``python -m skmdl.demo`` (or ``skmdl demo``). It needs no
``SKMDL_DATA``: on the bundled sample of experimental band gaps (1,000
compositions of matbench_expt_gap, a benchmark target no source was trained
on) it holds out a fifth of the rows and fits, on the rest,

* **direct**: the default head (extra trees) on the default composition
  descriptors (Magpie statistics, stoichiometry, element fractions), what a
  model trained from scratch does;
* **transfer**: ``TransferRegressor(quantity="band gap")`` with every other
  default: sources screened from the embedded library, the direct model as a
  member and the yardstick, and the DFT band-gap sources (OQMD, AFLOW,
  Materials Project) as multi-fidelity corrections (DFT -> experiment), with a
  metal / non-metal gate;

and prints both errors side by side with the members the inner
cross-validation kept.
"""

from __future__ import annotations

import time

import numpy as np

from .datasets import load_sample


def run(n_jobs: int | None = None, verbose: bool = True, n_rows: int | None = None) -> dict:
    """Direct vs transfer on the bundled experimental band gaps (held-out MAE).

    Parameters
    ----------
    n_jobs : int or None, default=None
        Parallel fits (joblib) of the transfer estimator.
    verbose : bool, default=True
        Print the comparison.
    n_rows : int, optional
        Use only the first ``n_rows`` rows (a quicker run).

    Returns
    -------
    dict
        ``direct_mae``, ``transfer_mae`` (eV), ``ratio``, ``n_train``, ``n_test``,
        ``members`` (kept member -> weight), ``seconds``.

    Examples
    --------
    >>> result = run(verbose=False, n_rows=200)
    >>> result["n_train"], result["n_test"], result["transfer_mae"] > 0
    (160, 40, True)
    """
    from sklearn.pipeline import make_pipeline

    from .descriptors import CompositionFeaturizer
    from .transfer import TransferRegressor
    from .transfer.base import default_head

    t0 = time.perf_counter()
    X, y = load_sample("matbench_expt_gap_1000")
    if n_rows is not None:
        X, y = X[:n_rows], y[:n_rows]
    X, y = X.reset_index(drop=True), y.to_numpy(dtype=float)
    order = np.random.default_rng(0).permutation(len(y))
    test, train = order[: len(y) // 5], order[len(y) // 5:]
    direct = make_pipeline(CompositionFeaturizer(stoichiometry=True, element_fractions=True),
                           default_head("regression", 0)).fit(X[train], y[train])
    transfer = TransferRegressor(quantity="band gap", n_jobs=n_jobs, random_state=0)
    transfer.fit(X[train], y[train])
    maes = {name: float(np.abs(model.predict(X[test]) - y[test]).mean())
            for name, model in (("direct", direct), ("transfer", transfer))}
    kept = transfer.members_[transfer.members_["weight"] > 0]
    result = {"direct_mae": maes["direct"], "transfer_mae": maes["transfer"],
              "ratio": maes["transfer"] / maes["direct"], "n_train": len(train),
              "n_test": len(test), "members": dict(zip(kept["member"], kept["weight"])),
              "gate": transfer.gate_ is not None,
              "hurdle": not transfer.fit_rows_.all(), "seconds": time.perf_counter() - t0}
    if verbose:
        _report(result, transfer)
    return result


def _report(result, transfer) -> None:
    print(f"experimental band gaps (bundled sample of matbench_expt_gap): "
          f"{result['n_train']} compositions to train, {result['n_test']} held out")
    print(f"{'model':<10} {'held-out MAE (eV)':>18}")
    print(f"{'direct':<10} {result['direct_mae']:>18.3f}   extra trees on composition "
          "descriptors, from scratch")
    print(f"{'transfer':<10} {result['transfer_mae']:>18.3f}   TransferRegressor"
          "(quantity='band gap'), embedded library")
    print(f"transfer / direct = {result['ratio']:.2f}")
    print(f"screened {len(transfer.screening_)} source models; members kept by inner CV: "
          + ", ".join(f"{m} ({w:.2f})" for m, w in result["members"].items())
          + ("; metal gate on" if result["gate"] else "")
          + (" (hurdle: members learned the non-zero gaps)" if result["hurdle"] else ""))
    print(f"done in {result['seconds']:.1f} s")


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
