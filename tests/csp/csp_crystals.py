"""Tiny crystals shared by the CSP tests (helpers; fixtures are in conftest.py).

Primitive fcc cells written out directly (building them from a space-group
symbol costs seconds per call).
"""

from pymatgen.core import Lattice, Structure


def _fcc(a):
    h = a / 2
    return Lattice([[0, h, h], [h, 0, h], [h, h, 0]])


def rocksalt(a, b, lattice):
    return Structure(_fcc(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def cesium_chloride(a, b, lattice):
    return Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def zincblende(a, b, lattice):
    return Structure(_fcc(lattice), [a, b], [[0, 0, 0], [0.25, 0.25, 0.25]])
