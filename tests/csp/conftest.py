"""Tiny crystals shared by the CSP tests."""

import pytest
from pymatgen.core import Lattice, Structure


def rocksalt(a, b, lattice):
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(lattice), [a, b],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])


def cesium_chloride(a, b, lattice):
    return Structure(Lattice.cubic(lattice), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])


def zincblende(a, b, lattice):
    return Structure.from_spacegroup("F-43m", Lattice.cubic(lattice), [a, b],
                                     [[0, 0, 0], [0.25, 0.25, 0.25]])


@pytest.fixture
def nacl():
    return rocksalt("Na", "Cl", 5.64)


@pytest.fixture
def references():
    """Templates without any NaCl: KCl rock salt, CsCl, ZnS zinc blende."""
    return [rocksalt("K", "Cl", 6.29), cesium_chloride("Cs", "Cl", 4.12),
            zincblende("Zn", "S", 5.41)]
