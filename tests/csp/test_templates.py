import json

import pytest

from skmdl.csp.templates import TemplateStore, anonymized_formula, leave_one_out

from csp_crystals import rocksalt


def test_lookup_by_stoichiometry_pattern(references, nacl):
    store = TemplateStore().add_structures(references, ids=["KCl", "CsCl", "ZnS"])
    assert len(store) == 3
    assert sorted(t.id for t in store.lookup("NaCl")) == ["CsCl", "KCl", "ZnS"]
    assert store.lookup("Na2O") == []
    # a cell with several formula units is found by its reduced pattern
    big = rocksalt("Mg", "O", 4.2).make_supercell([2, 2, 1], in_place=False)
    store.add_structures([big], ids=["MgO-221"])
    assert "MgO-221" in [t.id for t in store.lookup("LiF")]
    assert anonymized_formula("Si2O4") == anonymized_formula("TiO2") == "AB2"


def test_exclusion_and_leave_one_out(references, nacl):
    store = TemplateStore().add_structures(references + [nacl], ids=["KCl", "CsCl", "ZnS", "NaCl"])
    loo = leave_one_out(store, nacl)
    assert "NaCl" not in loo.formulas and len(loo) == 3
    assert "NaCl" in store.formulas  # the original store is untouched
    assert leave_one_out(store, "Na2Cl2").formulas == loo.formulas
    with pytest.raises(ValueError, match="duplicate template id"):
        store.add_structures([nacl], ids=["KCl"])


def test_folder_with_cif_and_json(tmp_path, references):
    references[0].to(filename=str(tmp_path / "KCl.cif"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ZnS.json").write_text(json.dumps(references[2].as_dict()))
    store = TemplateStore().add_folder(tmp_path, source="mine")
    assert sorted(t.id for t in store) == ["mine:KCl", "mine:sub/ZnS"]
    (tmp_path / "bad.cif").write_text("not a cif")
    with pytest.raises(ValueError, match="bad.cif"):
        TemplateStore().add_folder(tmp_path)


def test_store_scales_linearly(references):
    """Adding, looking up and excluding are linear: 5k templates in well under seconds each."""
    import time

    from skmdl.csp.templates import Template

    t0 = time.perf_counter()
    store = TemplateStore()
    for i in range(5_000):
        store.add(Template(f"t{i}", references[i % 3], "synthetic"))
    t1 = time.perf_counter()
    assert len(store.lookup("NaCl")) == 5_000
    t2 = time.perf_counter()
    assert len(store.exclude_formulas(["KCl"])) == 5_000 - 1_667
    t3 = time.perf_counter()
    assert t1 - t0 < 5 and t2 - t1 < 0.5 and t3 - t2 < 2
