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
    assert main(["csp", "Ga2As2", "--reference", str(ref), "--no-prototypes",
                 "--generators", "template", "--n-candidates", "4", "--top-k", "2",
                 "--no-relax", "--out", str(out), "--quiet"]) == 0
    assert "GaAs: 2 structures" in capsys.readouterr().out
    ranking = pd.read_csv(out / "ranking.csv", keep_default_na=False)
    assert list(ranking["rank"]) == [1, 2]
    assert sorted(p.name for p in out.iterdir()) == ["rank01_GaAs.cif", "rank02_GaAs.cif",
                                                     "ranking.csv"]
    assert ranking["energy_per_atom"].is_monotonic_increasing
    assert (ranking["template_id"] == "ref:ZnS").all()
    best = Structure.from_file(out / "rank01_GaAs.cif")
    assert best.composition.reduced_formula == "GaAs"
    assert best.get_space_group_info(symprec=0.1)[1] == 216  # zincblende, as the template
    assert ranking["space_group"][0] == "F-43m (216)"
    assert -5 < ranking["energy_per_atom"][0] < -3  # CHGNet: about -4.06 eV/atom


@pytest.mark.parametrize("args, message", [
    (["Xx2O"], "bad formula 'Xx2O'"),
    (["Fe1e400"], "bad formula 'Fe1e400'"),  # overflowing amounts: no traceback
    (["Fe" + "9" * 400], "bad formula 'Fe999"),
    (["GaAs", "--no-prototypes"], "--no-prototypes needs --reference"),
    (["GaAs", "--reference", "/nonexistent/folder"], "no such folder"),
    (["GaAs", "--top-k", "0"], "--top-k must be at least 1"),
])
def test_csp_bad_input(tmp_path, capsys, args, message, error_line):
    out = tmp_path / "o"
    assert main(["csp", *args, "--out", str(out)]) == 2
    assert message in error_line("csp")
    assert not out.exists()
