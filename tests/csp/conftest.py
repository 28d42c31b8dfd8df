"""Fixtures of the CSP tests: NaCl and templates that hold no NaCl."""

import pytest

from csp_crystals import cesium_chloride, rocksalt, zincblende


@pytest.fixture
def nacl():
    return rocksalt("Na", "Cl", 5.64)


@pytest.fixture
def references():
    """Templates without any NaCl: KCl rock salt, CsCl, ZnS zinc blende."""
    return [rocksalt("K", "Cl", 6.29), cesium_chloride("Cs", "Cl", 4.12),
            zincblende("Zn", "S", 5.41)]
