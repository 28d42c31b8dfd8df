"""A tiny library built from synthetic data in seconds (no SKMDL_DATA)."""

import numpy as np

from skmdl.descriptors import CompositionFeaturizer
from skmdl.library import SourceTask, TrainingConfig, build

ELEMENTS = ["Fe", "O", "Na", "Cl", "Si", "Ti", "Ba", "Li", "Co", "Ni", "Al", "Mg"]


def synthetic_task(n=300, seed=0):
    """Formulas and a smooth target (fraction-weighted atomic number / 10, with noise)."""
    from skmdl.descriptors._formula import ATOMIC_NUMBER

    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        els = rng.choice(ELEMENTS, size=rng.integers(1, 4), replace=False)
        amts = rng.integers(1, 5, size=len(els))
        X.append("".join(f"{e}{a}" for e, a in zip(els, amts)))
        z = np.array([ATOMIC_NUMBER[e] for e in els])
        y.append(float(amts @ z) / amts.sum() / 10 + rng.normal(0, 0.05))
    return X, np.array(y)


TINY_CONFIG = TrainingConfig(widths=(8, 16), n_layers=(1, 2), max_epochs=30, patience=5,
                             batch_sizes=(64,))
TINY_FEATURIZER = CompositionFeaturizer(stats=["mean", "max"])
SOURCES = [
    SourceTask("toy_a", "toy property A", "toy", "1", source="synthetic"),
    SourceTask("toy_b", "toy property B", "toy b", "eV", bounds=(None, 100.0),
               source="synthetic"),
]
DATA = {"toy_a": synthetic_task(seed=1), "toy_b": synthetic_task(seed=2)}


def build_tiny(out, n_models=2, **kw):
    return build(SOURCES, out, featurizer=TINY_FEATURIZER, n_models=n_models,
                 config=TINY_CONFIG, data=DATA, name="tiny", **kw)
