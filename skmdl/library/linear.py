"""Linear source models (ridge regression in closed form) stored as library networks.

A linear model ``w . x + b`` is exactly the two-unit ReLU network
``relu(w . x + b) - relu(-(w . x + b))``, so it is stored as an ordinary
:class:`~skmdl.library.artifact.MLP` artifact (hidden width 2, safetensors +
JSON card) and loads, predicts, verifies and transfers like every other
source. Built here: the pair-interaction alloy sources, ridge regressions on
:class:`~skmdl.descriptors.pairs.PairFractionFeaturizer` (a regular-solution
model of the formation enthalpy) learned from compositions of at most three
metals, which extrapolate to four and five (``benchmarks/build_pair_sources.py``).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .. import __version__
from .artifact import MLP, descriptor_spec
from .builder import BENCHMARK_TARGETS, LibraryFolder, refuse_excluded, source_metadata
from .tasks import target_rows
from .training import regression_metrics

__all__ = ["build_linear_sources", "linear_mlp"]

#: ridge penalties of the five models of a source (the shotgun's variety, with
#: a different 90 % subsample of the training rows each)
ALPHAS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


def linear_mlp(weights, intercept) -> MLP:
    """The network that computes ``weights . x + intercept`` exactly.

    Examples
    --------
    >>> import torch
    >>> m = linear_mlp([2.0, -1.0], 0.5)
    >>> m(torch.tensor([[1.0, 3.0], [0.0, 0.0]])).squeeze(1).tolist()
    [-0.5, 0.5]
    """
    w = torch.as_tensor(np.asarray(weights, dtype=np.float32))
    module = MLP(len(w), [2], activation="relu")
    with torch.no_grad():
        module.hidden[0].weight.copy_(torch.stack([w, -w]))
        module.hidden[0].bias.copy_(torch.tensor([intercept, -intercept], dtype=torch.float32))
        module.out.weight.copy_(torch.tensor([[1.0, -1.0]]))
        module.out.bias.zero_()
    return module.eval()


def _rows(source, featurizer, X, y, split):
    """Sparse features and targets of the rows a linear source may learn from, with the
    cleaning rule in words: finite targets within bounds, at most ``max_elements``
    elements, two or more elements, all in the featurizer's set (no ``x_other``)."""
    from sklearn.base import clone

    F = clone(featurizer).set_params(errors="nan").fit().sparse_transform(X)
    other = np.asarray(F[:, -1].todense()).ravel()
    keep, y = target_rows(source, X, y, (F.getnnz(axis=1) > 0) & (other == 0))
    rule = (source.cleaning_rule() + "; keep compositions of two or more of the "
            "featurizer's elements (metals) and no other element")
    return F[keep], y[keep], np.asarray(split, dtype=object)[keep], rule


def _fit_ridge(F, y, alpha):
    """``(w, 0)`` minimising ``|F w - y|^2 + alpha |w|^2``, solved exactly from the normal
    equations. No intercept: a regular-solution enthalpy vanishes for a pure element."""
    from scipy.linalg import solve

    G = (F.T @ F).toarray() + alpha * np.eye(F.shape[1])
    w = solve(G, F.T @ y, assume_a="pos")
    return w, 0.0


def build_linear_sources(sources, out_dir, featurizer, alphas=ALPHAS, subsample=0.9, seed=0,
                         name="", data=None, excluded=BENCHMARK_TARGETS) -> dict:
    """Ridge sources, one model per ``alphas`` value, into a library folder.

    Parameters
    ----------
    sources : list of SourceTask
        Their tasks' published ``split`` decides: fitted on a ``subsample`` of
        the train rows, scored on the test rows (the card's metrics).
    out_dir : path
        Library folder; models already there are kept (resumable).
    featurizer : PairFractionFeaturizer (or another with ``sparse_transform``)
    data : dict, optional
        ``{task: (X, y, split)}`` instead of :func:`skmdl.datasets.load_task`.

    Returns
    -------
    dict with ``trained``, ``skipped`` and ``seconds``
    """
    from pathlib import Path

    t0 = time.perf_counter()
    refuse_excluded(sources, excluded)
    library = LibraryFolder.open(Path(out_dir), name)
    spec = dict(descriptor_spec(featurizer), name="composition:pair-fractions")
    for source in sources:
        ids = [f"{source.prefix}-{k:03d}" for k in range(len(alphas))]
        todo = [k for k, i in enumerate(ids) if i not in library.present]
        library.skipped += [i for i in ids if i in library.present]
        if not todo:
            continue
        if data is None:
            from ..datasets import load_task

            X, y, split = load_task(source.task, return_split=True)
        else:
            X, y, split = data[source.task]
        F, y, split, rule = _rows(source, featurizer, list(X), np.asarray(y, float), split)
        train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
        for k in todo:
            rng = np.random.default_rng([seed, k])
            rows = np.sort(rng.choice(train, size=int(subsample * len(train)), replace=False))
            t1 = time.perf_counter()
            w, b = _fit_ridge(F[rows], y[rows], alphas[k])
            module = linear_mlp(w, b)
            pred = F[test] @ w + b
            card = _card(ids[k], source, spec, alphas[k], subsample, seed, k, len(rows),
                         len(test), rule, time.perf_counter() - t1,
                         regression_metrics(y[test], pred), excluded)
            library.add(ids[k], module, card)
        library.write_index()
    library.write_index()
    return {"trained": library.trained, "skipped": library.skipped,
            "seconds": time.perf_counter() - t0}


def _card(model_id, source, spec, alpha, subsample, seed, k, n_train, n_test, rule, seconds,
          metrics, excluded) -> dict:
    return {
        "id": model_id,
        **source_metadata(source),
        "descriptor": spec,
        "architecture": {
            "type": "mlp", "n_in": spec["n_features"], "hidden": [2], "activation": "relu",
            "dropout": 0.0, "n_out": 1,
            "linear": "a ridge regression w . x + b stored exactly as "
                      "relu(w . x + b) - relu(-(w . x + b))",
            "input_scaling": "none (x_mean 0, x_scale 1)",
            "output_scaling": "none (y_mean 0, y_scale 1)",
        },
        "training": {
            "dataset": source.task, "cleaning": rule,
            "split": "the task's published split: fitted on a random "
                     f"{subsample:.0%} of its train rows, scored on its test rows",
            "n_train": int(n_train), "n_test": int(n_test), "seed": seed, "model_index": k,
            "method": "ridge regression without intercept, exact solve of the normal "
                      "equations",
            "alpha": alpha, "seconds": round(seconds, 3),
        },
        "metrics": {**metrics, "split": "test"},
        "n_params": int(2 * spec["n_features"] + 5),
        "excluded_targets": list(excluded),
        "excluded_note": "benchmark transfer targets are never used as source data",
        "skmdl_version": __version__,
    }
