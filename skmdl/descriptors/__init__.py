"""Descriptors: scikit-learn transformers from materials inputs to feature matrices."""

from ._formula import FormulaError, parse_formula
from .composition import CompositionFeaturizer
from .elements import ELEMENT_TABLES, load_element_table

__all__ = [
    "CompositionFeaturizer",
    "ELEMENT_TABLES",
    "FormulaError",
    "load_element_table",
    "parse_formula",
]
