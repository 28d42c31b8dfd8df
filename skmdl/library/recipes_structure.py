"""Recipes of the crystal-structure source models of the embedded library.

``STRUCTURE_SOURCES``: MEGNet's MP-2018.6.1 formation energies and PBE band
gaps (``$SKMDL_DATA/structures/mp2018_formation_energy.csv.gz``, its published
train/val/test split, structures from ``mp_structures.jsonl.gz``), learnt from
the orbital-field matrix of each crystal
(:class:`~skmdl.descriptors.OrbitalFieldMatrixFeaturizer`, cosine cutoff at
6 Å: 1,024 features, a few hundred structures per second, defined for every
element up to Z = 104). They
are ``kind="structure"`` models: their inputs are pymatgen ``Structure``
objects, so ``PretrainedFeaturizer`` / ``TransferRegressor`` use them on
structure data. Built into ``ModelLibrary.default()`` by
``benchmarks/build_structure_library.py``.

The CHGNet embedding would be a stronger input but costs ~50 ms per crystal
on one core (40 minutes for this set, and as much per use); the orbital-field
matrix keeps the sources cheap enough to featurize a user's data on the fly.
"""

from dataclasses import replace

from .builder import BENCHMARK_TARGETS, SourceTask
from .recipes import DEFAULT_CONFIG

_MEGNET = ("Materials Project MP-2018.6.1 (CC-BY 4.0) as in MEGNet, Chen et al. Chem. Mater. 31, "
           "3564 (2019); split from the JARVIS-Leaderboard megnet_e_form / megnet_gappbe benchmarks")
_PBE = "DFT-PBE(+U), Materials Project 2018"

STRUCTURE_SOURCES = [
    SourceTask("mp2018_e_form", "formation energy from structure (MP-2018)", "formation energy",
               "eV/atom", "structure", bounds=(-5.0, 5.0), source=_MEGNET, fidelity=_PBE),
    SourceTask("mp2018_gap_pbe", "band gap from structure (MP-2018)", "band gap", "eV",
               "structure", bounds=(0.0, None), source=_MEGNET, fidelity=_PBE),
]

#: 1,024 inputs: widths capped at 64 so that the ten models add ~3 MB to the
#: package; every training row of the published split (44,376), 60 epochs.
STRUCTURE_CONFIG = replace(DEFAULT_CONFIG, widths=(32, 64), max_train=None)


def structure_featurizer():
    """Orbital-field matrix with a 6 Å cosine cutoff (parameters pinned in the card).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> salt = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> structure_featurizer().fit().transform([salt]).shape
    (1, 1024)
    """
    from ..descriptors.structure import OrbitalFieldMatrixFeaturizer

    return OrbitalFieldMatrixFeaturizer(neighbors="cutoff", cutoff=6.0)


def build_structure(out_dir, n_models=5, n_jobs=1, progress=True, name="skmdl default library"):
    """Add the structure source models to a library (needs ``$SKMDL_DATA``); resumable."""
    from .builder import build

    return build(STRUCTURE_SOURCES, out_dir, featurizer=structure_featurizer(), n_models=n_models,
                 seed=0, config=STRUCTURE_CONFIG, n_jobs=n_jobs, name=name, progress=progress,
                 excluded=BENCHMARK_TARGETS)
