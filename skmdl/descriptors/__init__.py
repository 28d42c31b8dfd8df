"""Descriptors: scikit-learn transformers from materials inputs to feature matrices.

Formulas (:class:`CompositionFeaturizer`), crystal structures
(:class:`RadialDistributionFeaturizer`, :class:`OrbitalFieldMatrixFeaturizer`,
:class:`CHGNetEmbedding`) and SMILES (:class:`RDKitDescriptors`,
:class:`MorganFingerprint`, :class:`MACCSKeys`); a bad input raises a
:class:`~skmdl.exceptions.InvalidInputError` naming it and its row.

Examples
--------
>>> from skmdl.descriptors import CompositionFeaturizer
>>> CompositionFeaturizer().fit().transform(["Fe2O3", "NaCl"]).shape
(2, 132)
"""

from ._formula import ATOMIC_NUMBER, FormulaError, element_count, parse_formula
from .composition import CompositionFeaturizer
from .elements import ELEMENT_TABLES, load_element_table
from .molecule import (MACCSKeys, MorganFingerprint, RDKitDescriptors, parse_molecule,
                       polymerize, rdkit_descriptor_names)
from .chgnet import CHGNetEmbedding
from .pairs import PairFractionFeaturizer
from .structure import OrbitalFieldMatrixFeaturizer, RadialDistributionFeaturizer

__all__ = [
    "ATOMIC_NUMBER",
    "CHGNetEmbedding",
    "CompositionFeaturizer",
    "ELEMENT_TABLES",
    "element_count",
    "FormulaError",
    "load_element_table",
    "MACCSKeys",
    "MorganFingerprint",
    "OrbitalFieldMatrixFeaturizer",
    "PairFractionFeaturizer",
    "parse_molecule",
    "polymerize",
    "RadialDistributionFeaturizer",
    "RDKitDescriptors",
    "rdkit_descriptor_names",
    "parse_formula",
]
