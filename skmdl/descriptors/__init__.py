"""Descriptors: scikit-learn transformers from materials inputs to feature matrices."""

from ._formula import FormulaError, parse_formula
from .composition import CompositionFeaturizer
from .elements import ELEMENT_TABLES, load_element_table
from .molecule import (MACCSKeys, MorganFingerprint, RDKitDescriptors, parse_molecule,
                       polymerize, rdkit_descriptor_names)
from .chgnet import CHGNetEmbedding
from .structure import OrbitalFieldMatrixFeaturizer, RadialDistributionFeaturizer

__all__ = [
    "CHGNetEmbedding",
    "CompositionFeaturizer",
    "ELEMENT_TABLES",
    "FormulaError",
    "load_element_table",
    "MACCSKeys",
    "MorganFingerprint",
    "OrbitalFieldMatrixFeaturizer",
    "parse_molecule",
    "polymerize",
    "RadialDistributionFeaturizer",
    "RDKitDescriptors",
    "rdkit_descriptor_names",
    "parse_formula",
]
