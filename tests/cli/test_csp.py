"""``skmdl csp``: ranked CIFs and a ranking table for formulas."""

import pandas as pd
import pytest

from skmdl.cli import main


def test_csp_writes_ranked_cifs(tmp_path, capsys):
    from pymatgen.core import Lattice, Structure

    ref = tmp_path / "ref"
    ref.mkdir()
    zns = Structure.from_spacegroup("F-43m", Lattice.cubic(5.41), ["Zn", "S"],
                                    [[0, 0, 0], [0.25, 0.25, 0.25]])
    zns.to(filename=str(ref / "ZnS.cif"))
    out = tmp_path / "gaas"
    assert main(["csp", "Ga2As2", "--pool", str(ref), "--no-prototypes",
                 "--generators", "template", "--n-candidates", "4", "--top-k", "2",
                 "--screen", "pretrained", "--no-relax", "--out", str(out), "--quiet"]) == 0
    out_text = capsys.readouterr().out
    assert "GaAs: 2 structures" in out_text
    assert "pool: ref (1 structures); 1 templates" in out_text
    assert "GaAs: 1 templates of pattern AB in 1 structure types" in out_text
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert list(ranking["rank"]) == [1, 2]
    assert sorted(p.name for p in out.iterdir()) == ["rank01_GaAs.cif", "rank02_GaAs.cif",
                                                     "ranking.csv"]
    assert ranking["energy_per_atom"].is_monotonic_increasing
    assert (ranking["template_id"] == "ZnS").all()
    best = Structure.from_file(out / "rank01_GaAs.cif")
    assert best.composition.reduced_formula == "GaAs"
    assert best.get_space_group_info(symprec=0.1)[1] == 216  # zincblende, as the template
    assert ranking["space_group"][0] == "F-43m (216)"
    assert -5 < ranking["energy_per_atom"][0] < -3  # CHGNet: about -4.06 eV/atom


@pytest.mark.parametrize("args, message", [
    (["Xx2O"], "bad formula 'Xx2O'"),
    (["Fe1e400"], "bad formula 'Fe1e400'"),  # overflowing amounts: no traceback
    (["Fe" + "9" * 400], "bad formula 'Fe999"),
    (["GaAs", "--no-prototypes"], "--no-prototypes needs --pool"),
    (["GaAs", "--pool", "/nonexistent/folder"], "no such pool file or folder"),
    (["GaAs", "--top-k", "0"], "--top-k must be at least 1"),
])
def test_csp_bad_input(tmp_path, capsys, args, message, error_line, monkeypatch):
    monkeypatch.setenv("SKMDL_DATA", str(tmp_path))  # no MP pool there: no default pool
    out = tmp_path / "o"
    assert main(["csp", *args, "--out", str(out)]) == 2
    assert message in error_line("csp")
    assert not out.exists()


def _tiny_mp(home):
    """A data folder whose structures/mp_structures.jsonl.gz holds two crystals."""
    import gzip
    import json

    from pymatgen.core import Lattice, Structure

    zns = Structure(Lattice([[0, 2.7, 2.7], [2.7, 0, 2.7], [2.7, 2.7, 0]]), ["Zn", "S"],
                    [[0, 0, 0], [0.25, 0.25, 0.25]])
    cscl = Structure(Lattice.cubic(4.12), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    (home / "structures").mkdir(parents=True)
    with gzip.open(home / "structures" / "mp_structures.jsonl.gz", "wt") as fh:
        for sid, s in (("mp-1", zns), ("mp-2", cscl)):
            fh.write(json.dumps({"id": sid, "formula": s.composition.reduced_formula,
                                 "lattice": s.lattice.matrix.tolist(),
                                 "species": [sp.symbol for sp in s.species],
                                 "frac": s.frac_coords.tolist(), "spacegroup": None}) + "\n")
    return home


def test_csp_uses_the_mp_pool_of_skmdl_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SKMDL_DATA", str(_tiny_mp(tmp_path / "data")))
    out = tmp_path / "o"
    assert main(["csp", "GaAs", "--no-prototypes", "--generators", "template",
                 "--n-candidates", "3", "--top-k", "2", "--no-relax", "--out", str(out),
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "pool: mp (2 structures); 2 templates" in text
    assert "GaAs: 2 templates of pattern AB in 2 structure types" in text
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert set(ranking["template_id"]) <= {"mp-1", "mp-2"} and len(ranking) == 2


def test_csp_corrupt_pool_is_an_input_error(tmp_path, error_line, monkeypatch):
    home = _tiny_mp(tmp_path / "data")
    path = home / "structures" / "mp_structures.jsonl.gz"
    path.write_bytes(path.read_bytes()[:40])  # truncated gzip
    monkeypatch.setenv("SKMDL_DATA", str(home))
    out = tmp_path / "o"
    assert main(["csp", "GaAs", "--no-relax", "--out", str(out)]) == 2
    assert "mp_structures.jsonl.gz: cannot read it" in error_line("csp")
    assert not out.exists()
    lines = tmp_path / "p.jsonl"
    lines.write_text('{"id": "x"}\n')
    assert main(["csp", "GaAs", "--pool", str(lines), "--no-relax", "--out", str(out)]) == 2
    assert "p.jsonl, line 1: not a structure record" in error_line("csp")
