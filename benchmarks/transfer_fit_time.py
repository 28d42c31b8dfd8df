"""Wall time of the default TransferRegressor fit beside the direct model's, on steels.

    python benchmarks/transfer_fit_time.py [--repeats 3]

matbench_steels (312 rows, bundled), the whole data set: the direct model
(the default head on the default descriptors) and ``TransferRegressor()``
with every default (the embedded library: screening, members' out-of-fold
predictions, refit, interval calibration), with ``n_jobs=None`` (one
process) and ``n_jobs=2``, and with ``stack="trees"`` (the default before
the ``outputs`` member), ``n_jobs=2``. Median of ``--repeats`` fits each, after one
warm-up fit (imports, library loading); where the time goes is printed from
``fit``'s steps for the last repeat.
"""

import argparse
import os
import time

import numpy as np
from sklearn.pipeline import make_pipeline

from skmdl.datasets import load_sample
from skmdl.descriptors import CompositionFeaturizer
from skmdl.transfer import TransferRegressor
from skmdl.transfer.base import default_head

from _results import write_result  # benchmarks/_results.py


def _time(make, X, y, repeats):
    times = []
    for _ in range(repeats):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), model


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    X, y = load_sample("matbench_steels")
    TransferRegressor(random_state=0).fit(X[:60], y[:60])  # warm-up: imports, library
    rows = []
    direct = lambda: make_pipeline(  # noqa: E731
        CompositionFeaturizer(stoichiometry=True, element_fractions=True),
        default_head("regression", 0))
    t_direct, _ = _time(direct, X, y, args.repeats)
    rows.append(("direct (default head on the default descriptors)", t_direct, None))
    profiles = {}
    for kw in ({"n_jobs": None}, {"n_jobs": 2}, {"n_jobs": 2, "stack": "trees"}):
        t, model = _time(lambda: TransferRegressor(random_state=0, **kw), X, y, args.repeats)
        kept = model.members_[model.members_["weight"] > 0]
        name = "TransferRegressor(" + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"
        profiles[name] = model.fit_profile_
        rows.append((name, t,
                     ", ".join(f"{m} ({w:.2f})" for m, w in zip(kept["member"], kept["weight"]))))
    lines = [f"`python benchmarks/transfer_fit_time.py {' '.join(os.sys.argv[1:])}`", "",
             f"matbench_steels, {len(y)} rows; {os.cpu_count()} cores; median of "
             f"{args.repeats} fits", "",
             "| model | fit wall time (s) | ÷ direct | members kept |", "|---|---|---|---|"]
    for name, t, kept in rows:
        lines.append(f"| {name} | {t:.1f} | {t / t_direct:.1f} | {kept or ''} |")
    lines.append("")
    for name, profile in list(profiles.items())[1:]:
        lines.append(f"where the time goes (last fit of {name}, s): " + ", ".join(
            f"{k} {v:.1f}" for k, v in profile.items()))
    lines += ["", "goal: default fit ≤ 20 s wall on 2 cores (was 57.8 s); stack='trees' is the "
              "default without the outputs member"]
    text = "\n".join(lines)
    print(text)
    write_result("transfer_fit_time.md", text)


if __name__ == "__main__":
    main()
