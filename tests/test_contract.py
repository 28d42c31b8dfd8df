"""Every public skmdl estimator passes the project's sklearn contract checks.

A new public estimator must be given example inputs in ``EXAMPLES``; the
registry test fails until it is.
"""

import importlib
import inspect
import pkgutil

import pandas as pd
import pytest
from sklearn.base import BaseEstimator

import skmdl
from skmdl.descriptors import CompositionFeaturizer
from skmdl.utils.estimator_checks import check_id, skmdl_checks

FORMULAS = pd.Series(
    ["Fe2O3", "NaCl", "SiO2", "BaTiO3", "LiCoO2", "GaAs", "Ag(AuS)2", "CuSO4·5H2O"],
    index=range(100, 108),
)

#: estimator instance -> (X, y) used by the checks
EXAMPLES = [
    (CompositionFeaturizer(), FORMULAS, None),
    (CompositionFeaturizer(stats="all", stoichiometry=True, element_fractions=True,
                           elements="oliynyk"), FORMULAS, None),
]


def public_estimators():
    found = set()
    for mod in pkgutil.walk_packages(skmdl.__path__, "skmdl."):
        if any(part.startswith("_") for part in mod.name.split(".")) or mod.name.endswith("cli"):
            continue
        module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseEstimator)
                    and obj.__module__.startswith("skmdl.") and not name.startswith("_")):
                found.add(obj)
    return found


def test_every_public_estimator_has_examples():
    covered = {type(est) for est, _, _ in EXAMPLES}
    missing = public_estimators() - covered
    assert not missing, f"add example inputs to tests/test_contract.py for {missing}"


CASES = [(est, check) for est, X, y in EXAMPLES for check in skmdl_checks(est, X, y)]


@pytest.mark.parametrize(
    "est, check", CASES, ids=[f"{type(e).__name__}-{check_id(c)}" for e, c in CASES]
)
def test_contract(est, check):
    check()
