"""Structure pools: the MP file as a light table, user pools, the checksummed cache, bad files."""

import gzip
import json
import warnings

import numpy as np
import pytest
from pymatgen.core import Composition, Lattice, Structure

from skmdl.datasets import DataNotFoundError
from skmdl.datasets.structures import (COLUMNS, PoolError, anonymized_formula_from_counts,
                                       cache_dir, load_structures, pool_from_structures,
                                       table_structure)


def _record(sid, structure):
    return {"id": sid, "formula": structure.composition.reduced_formula,
            "lattice": structure.lattice.matrix.tolist(),
            "species": [sp.symbol for sp in structure.species],
            "frac": (structure.frac_coords % 1).tolist(), "nsites": len(structure),
            "spacegroup": structure.get_space_group_info(symprec=0.1)[1]}


def _crystals():
    rs = lambda a, b, x: Structure.from_spacegroup(  # noqa: E731
        "Fm-3m", Lattice.cubic(x), [a, b], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cscl = Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return {"p-1": rs("Na", "Cl", 5.64), "p-2": rs("K", "Cl", 6.29), "p-3": cscl,
            "p-4": rs("Na", "Cl", 5.70).get_primitive_structure()}


def write_pool(path, crystals=None, gz=True):
    lines = [json.dumps(_record(k, s)) for k, s in (crystals or _crystals()).items()]
    data = ("\n".join(lines) + "\n").encode()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def pool_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SKMDL_CACHE", str(tmp_path / "cache"))
    return write_pool(tmp_path / "pool.jsonl.gz")


def test_table_columns_formulas_and_lazy_structures(pool_file):
    df = load_structures(pool_file)
    assert list(df.columns) == COLUMNS and len(df) == 4
    assert list(df["formula"]) == ["NaCl", "KCl", "CsCl", "NaCl"]
    assert set(df["anonymized_formula"]) == {"AB"}
    assert list(df["nsites"]) == [8, 8, 2, 2] and list(df["spacegroup"]) == [225, 225, 221, 225]
    s = table_structure(df.iloc[0])
    assert isinstance(s, Structure) and s.composition.reduced_formula == "NaCl"
    assert s.lattice.abc == pytest.approx((5.64,) * 3)
    assert df.attrs["pool"]["name"] == "pool.jsonl.gz" and len(df.attrs["pool"]["sha256"]) == 64
    assert list(load_structures(pool_file, exclude_formulas=["NaCl"])["id"]) == ["p-2", "p-3"]
    assert list(load_structures(pool_file, max_sites=2)["id"]) == ["p-3", "p-4"]


def test_cache_is_used_checked_and_rebuilt(pool_file, monkeypatch):
    from skmdl.datasets import structures as mod

    first = load_structures(pool_file)
    cached = sorted((cache_dir() / "pools").glob("*.npz"))
    assert len(cached) == 1 and cached[0].with_suffix(".npz.sha256").is_file()

    def no_parse(*a, **k):
        raise AssertionError("parsed again although the cache is valid")

    with monkeypatch.context() as m:
        m.setattr(mod, "_parse_jsonl", no_parse)
        again = load_structures(pool_file)
    assert list(again["id"]) == list(first["id"])
    np.testing.assert_allclose(np.concatenate(again["frac"].to_list()),
                               np.concatenate(first["frac"].to_list()), atol=1e-6)
    # a tampered cache file is noticed by its checksum and not trusted
    data = bytearray(cached[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    cached[0].write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="checksum mismatch"):
        assert list(load_structures(pool_file)["id"]) == list(first["id"])
    # a changed source gets its own cache entry
    crystals = _crystals()
    del crystals["p-4"]
    write_pool(pool_file, crystals)
    assert len(load_structures(pool_file)) == 3
    assert len(sorted((cache_dir() / "pools").glob("*.npz"))) == 2


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(gzip.compress(b'{"id": "x", "lattice": [[1,0,0]]}\n')),
     "line 1: not a structure record"),
    (lambda p: p.write_bytes(gzip.compress(b'{"id": "a"\n')), "line 1: not JSON"),
    (lambda p: p.write_bytes(p.read_bytes()[:60]), "cannot read it"),
    (lambda p: p.write_bytes(gzip.compress(b"")), "holds no ordered structure"),
    (lambda p: p.write_bytes(gzip.compress(
        b'{"id": "n", "lattice": [[1,0,0],[0,1,0],[0,0,1]], "species": ["Na"], '
        b'"frac": [[NaN, 0, 0]]}\n')), "non-finite"),
])
def test_bad_pool_files_name_file_and_line(pool_file, damage, message):
    damage(pool_file)
    with pytest.raises(PoolError, match=message) as info:
        load_structures(pool_file, cache=False)
    assert str(pool_file) in str(info.value)


def test_missing_pool_and_missing_data_home(tmp_path, monkeypatch):
    with pytest.raises(PoolError, match="no such pool file or folder"):
        load_structures(tmp_path / "nope.jsonl")
    monkeypatch.delenv("SKMDL_DATA", raising=False)
    with pytest.raises(DataNotFoundError):
        load_structures("mp")
    monkeypatch.setenv("SKMDL_DATA", str(tmp_path))
    with pytest.raises(DataNotFoundError, match="structure pool is not in"):
        load_structures("mp")


def test_folder_of_cifs_and_pymatgen_json(tmp_path):
    crystals = _crystals()
    folder = tmp_path / "cifs"
    (folder / "sub").mkdir(parents=True)
    crystals["p-1"].to(filename=str(folder / "NaCl.cif"))
    (folder / "sub" / "CsCl.json").write_text(json.dumps(crystals["p-3"].as_dict()))
    df = load_structures(folder)
    assert sorted(df["id"]) == ["NaCl", "sub/CsCl"] and set(df["spacegroup"]) == {-1}
    listed = tmp_path / "all.json"
    listed.write_text(json.dumps([s.as_dict() for s in crystals.values()]))
    assert len(load_structures(listed)) == 4
    (folder / "bad.cif").write_text("data_x\n_cell_length_a oops\n")
    with pytest.raises(PoolError, match="bad.cif"):
        load_structures(folder)
    assert list(pool_from_structures(list(crystals.values()))["formula"]) == [
        "NaCl", "KCl", "CsCl", "NaCl"]


def test_anonymized_formula_is_pymatgen_s():
    for f in ["NaCl", "Fe3O4", "LiCoO2", "Ca14MnSb11", "Cu12Sb4S13", "Ba(FeAs)2", "C"]:
        comp = Composition(f)
        counts = {str(e): int(round(3 * comp[e])) for e in comp}  # a 3-formula-unit cell
        assert anonymized_formula_from_counts(counts) == comp.anonymized_formula, f


@pytest.mark.shared_data
def test_mp_file_formulas_agree_with_pymatgen(shared_data, tmp_path):
    """The MP file's own formulas are trusted by the loader: check a sample against pymatgen."""
    import itertools

    path = shared_data / "structures" / "mp_structures.jsonl.gz"
    sample = tmp_path / "sample.jsonl"
    with gzip.open(path, "rt") as fh:
        sample.write_text("".join(itertools.islice(fh, 0, 60000, 40)))
    df = load_structures(sample, cache=False)
    assert len(df) == 1500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, row in df.iterrows():
            comp = table_structure(row).composition
            assert comp.reduced_formula == row["formula"], row["id"]
            assert comp.anonymized_formula == row["anonymized_formula"], row["id"]
