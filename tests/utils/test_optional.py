"""A public function whose optional dependency is missing names the extra that installs it."""

import sys

import pytest

from skmdl.utils.optional import EXTRAS, import_optional


@pytest.fixture
def without(monkeypatch):
    """Make ``import name`` fail as if the package were not installed."""
    def hide(*names):
        for name in names:
            for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                monkeypatch.delitem(sys.modules, mod)
            monkeypatch.setitem(sys.modules, name, None)
    return hide


def test_message_names_the_extra(without):
    without("matminer")
    with pytest.raises(ImportError, match=r'pip install "skmdl\[csp\]"') as info:
        import_optional("matminer.featurizers.site", "the fingerprint distance")
    assert info.value.name == "matminer"


def test_unknown_package_is_a_plain_import_error():
    with pytest.raises(ImportError) as info:
        import_optional("no_such_package_skmdl", "nothing")
    assert "skmdl[" not in str(info.value)


def test_fingerprint_distance_without_matminer(without):
    from pymatgen.core import Lattice, Structure

    from skmdl.csp import metrics

    without("matminer")
    metrics._fingerprinter.cache_clear()
    s = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    try:
        with pytest.raises(ImportError, match=r"skmdl\[csp\]"):
            metrics.fingerprint_distance(s, s)
    finally:
        metrics._fingerprinter.cache_clear()


def test_parquet_table_without_pyarrow(without, tmp_path):
    import pandas as pd

    from skmdl.cli._io import write_table

    without("pyarrow")
    with pytest.raises(ImportError, match=r"skmdl\[parquet\]"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    assert not list(tmp_path.iterdir())


def test_every_extra_is_declared():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    for _, extra in EXTRAS.values():
        assert extra in extras, extra
    test_extra = " ".join(extras["test"])
    for _, extra in EXTRAS.values():
        assert extra in test_extra, f"the test extra does not install [{extra}]"
