"""Every public skmdl estimator passes the project's sklearn contract checks.

A new public estimator must be given example inputs in ``EXAMPLES``; the
registry test fails until it is. Estimators that need a model library get
the session's tiny synthetic library (``tiny_library`` fixture).
"""

import importlib
import inspect
import pkgutil

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge

import skmdl
from skmdl.descriptors import (CHGNetEmbedding, CompositionFeaturizer, MACCSKeys,
                               MorganFingerprint, OrbitalFieldMatrixFeaturizer,
                               PairFractionFeaturizer, RadialDistributionFeaturizer,
                               RDKitDescriptors)
from sklearn.linear_model import LogisticRegression

from skmdl.csp import ShotgunCSP
from sklearn.pipeline import make_pipeline

from skmdl.transfer import (AffineTransferRegressor, ConformalRegressor, PretrainedFeaturizer,
                            TransferClassifier, TransferRegressor)
from skmdl.transfer.finetune import SourceFineTuner
from skmdl.utils.estimator_checks import skmdl_checks

FORMULAS = pd.Series(
    ["Fe2O3", "NaCl", "SiO2", "BaTiO3", "LiCoO2", "GaAs", "Ag(AuS)2", "CuSO4·5H2O",
     "Al2O3", "MgO", "TiO2", "NiO"],
    index=range(100, 112),
)
TARGET = np.linspace(0.0, 3.0, len(FORMULAS))
SMILES = pd.Series(["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCC(CC1)N", "O=C=O", "CC#N"],
                   index=range(200, 206))
#: polymer repeat units ('*' = connection points)
REPEAT_UNITS = pd.Series(["*CC*", "*CC(*)c1ccccc1", "*CCO*", "*C(C)C*", "*c1ccc(O*)cc1"],
                         index=range(300, 305))
_ROCK_SALT = Lattice([[0, 2.82, 2.82], [2.82, 0, 2.82], [2.82, 2.82, 0]])
#: small crystals as Structure objects and CIF text (fcc Cu, NaCl, wurtzite ZnO, MgO)
STRUCTURES = pd.Series(
    [Structure(Lattice.cubic(3.61), ["Cu"] * 4,
               [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]),
     Structure(_ROCK_SALT, ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
     Structure(Lattice.hexagonal(3.25, 5.21), ["Zn", "Zn", "O", "O"],
               [[1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0.5], [1 / 3, 2 / 3, 0.382],
                [2 / 3, 1 / 3, 0.882]]),
     Structure(Lattice([[0, 2.105, 2.105], [2.105, 0, 2.105], [2.105, 2.105, 0]]), ["Mg", "O"],
               [[0, 0, 0], [0.5, 0.5, 0.5]]).to(fmt="cif")],
    index=range(400, 404),
)
#: the tiny library's descriptor matrix of FORMULAS (input of SourceFineTuner)
DESCRIPTORS = CompositionFeaturizer(stats=["mean", "max"]).fit().transform(FORMULAS)


def tiny_module(lib):
    from skmdl.library import ModelLibrary

    return None if lib == "unused" else ModelLibrary(lib).load("toy_a-000")[0]

#: (name, factory(library path) -> estimator, X, y)
EXAMPLES = [
    ("magpie", lambda lib: CompositionFeaturizer(), FORMULAS, None),
    ("all-oliynyk", lambda lib: CompositionFeaturizer(
        stats="all", stoichiometry=True, element_fractions=True, elements="oliynyk"),
     FORMULAS, None),
    ("pairs", lambda lib: PairFractionFeaturizer(), FORMULAS, None),
    ("rdkit", lambda lib: RDKitDescriptors(descriptors=["MolWt", "TPSA", "qed", "Ipc"]),
     SMILES, None),
    ("rdkit-polymer", lambda lib: RDKitDescriptors(polymer="cyclize"), REPEAT_UNITS, None),
    ("morgan", lambda lib: MorganFingerprint(n_bits=256), SMILES, None),
    ("morgan-oligomer", lambda lib: MorganFingerprint(n_bits=128, polymer="oligomer"),
     REPEAT_UNITS, None),
    ("maccs", lambda lib: MACCSKeys(polymer="cap"), REPEAT_UNITS, None),
    ("rdf", lambda lib: RadialDistributionFeaturizer(cutoff=5.0, n_bins=20), STRUCTURES, None),
    ("ofm", lambda lib: OrbitalFieldMatrixFeaturizer(), STRUCTURES, None),
    ("chgnet", lambda lib: CHGNetEmbedding(batch_size=2), STRUCTURES, None),
    ("pretrained", lambda lib: PretrainedFeaturizer(models=["toy_a-000", "toy_b-001"],
                                                    layers=[0, -1], library=lib),
     FORMULAS, None),
    ("transfer", lambda lib: TransferRegressor(library=lib, n_sources=2, head=Ridge(),
                                               calibration_cv=None, random_state=0),
     FORMULAS, TARGET),
    ("classifier", lambda lib: TransferClassifier(library=lib, n_sources=2,
                                                  head=LogisticRegression(max_iter=1000),
                                                  random_state=0),
     FORMULAS, (TARGET > 1.5).astype(int)),
    ("finetuner", lambda lib: SourceFineTuner(module=tiny_module(lib), max_epochs=5,
                                              random_state=0),
     DESCRIPTORS, TARGET),
    ("affine", lambda lib: AffineTransferRegressor(sources=["toy_a-000", "toy_b-000"], library=lib,
                                                   n_components=8, random_state=0),
     FORMULAS, TARGET),
    ("conformal", lambda lib: ConformalRegressor(
        make_pipeline(CompositionFeaturizer(stats=["mean"]), Ridge()), cv=3, random_state=0),
     FORMULAS, TARGET),
    # fit on crystals, predict on their compositions (ranked Candidate records per item)
    ("shotgun-csp", lambda lib: ShotgunCSP(generators=("template",), n_candidates=2, relax=False,
                                           volume_scan=(), prototypes=False, random_state=0),
     STRUCTURES.iloc[:3], None),
]


#: BaseEstimator subclasses that are adapters for another tool, not estimators a user
#: builds with keyword arguments; each is tested where that tool is.
ADAPTERS = {
    "skmdl.transfer.automl.TransferLearner":  # FLAML builds it as (task, **config)
        "tests/transfer/test_automl.py",
    # ShotgunCSP's parts: BaseEstimator for parameters and clone, fitted on a TemplateStore
    "skmdl.csp.generators.TemplateGenerator": "tests/csp/test_generators.py",
    "skmdl.csp.wyckoff.WyckoffGenerator": "tests/csp/test_generators.py",
    "skmdl.csp.generators.RandomGenerator": "tests/csp/test_generators.py",
    "skmdl.csp.generators.BaseGenerator": "tests/csp/test_generators.py",
    # the abstract base of TransferRegressor / TransferClassifier, and the regressor's
    # zero gate (fitted on design matrices, not on materials)
    "skmdl.transfer.base.TransferBase": "tests/transfer/test_transfer.py",
    "skmdl.transfer.gate.ZeroGate": "tests/transfer/test_combine.py",
}


def public_estimators():
    found = set()
    for mod in pkgutil.walk_packages(skmdl.__path__, "skmdl."):
        if any(part.startswith("_") for part in mod.name.split(".")) or mod.name.endswith("cli"):
            continue
        module = importlib.import_module(mod.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseEstimator)
                    and obj.__module__.startswith("skmdl.") and not name.startswith("_")
                    and f"{obj.__module__}.{obj.__qualname__}" not in ADAPTERS):
                found.add(obj)
    return found


def test_every_public_estimator_has_examples():
    covered = {type(factory("unused")) for _, factory, _, _ in EXAMPLES}
    missing = public_estimators() - covered
    assert not missing, f"add example inputs to tests/test_contract.py for {missing}"


#: (example, check) -> why it fails today and who fixes it. Each is a strict xfail: the
#: entry must go as soon as the check passes.
KNOWN_FAILURES: dict = {}


def _case(name, factory, X, y, check_name):
    reason = KNOWN_FAILURES.get((name, check_name))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, factory, X, y, check_name, marks=marks, id=f"{name}-{check_name}")


CASES = [
    _case(name, factory, X, y, check.__name__)
    for name, factory, X, y in EXAMPLES
    for check in skmdl_checks(factory("unused"), X, y)
]


def test_known_failures_name_real_cases():
    cases = {(c.values[0], c.values[4]) for c in CASES}
    assert set(KNOWN_FAILURES) <= cases, set(KNOWN_FAILURES) - cases


@pytest.mark.parametrize("name, factory, X, y, check_name", CASES)
def test_contract(name, factory, X, y, check_name, tiny_library):
    checks = {c.__name__: c for c in skmdl_checks(factory(str(tiny_library)), X, y)}
    checks[check_name]()
