"""ShotgunCSP on a structure pool: lazy templates, structure types, leave-one-out, provenance."""

import gzip
import warnings
from collections import Counter

import numpy as np
import pytest
from pymatgen.core import Structure

from csp_crystals import cesium_chloride, rocksalt, zincblende
from skmdl.csp import Candidate, NoCandidatesError, ShotgunCSP, TemplateStore
from skmdl.csp.generators import TemplateGenerator
from skmdl.csp.wyckoff import WyckoffGenerator, wyckoff_signature
from skmdl.csp.volume import VolumeModel
from skmdl.datasets.structures import pool_from_structures


@pytest.fixture
def pool():
    """Two rock salts (one type), CsCl, zinc blende and a second zinc-blende cell (conventional)."""
    zns = zincblende("Zn", "S", 5.41)
    crystals = [rocksalt("K", "Cl", 6.29), rocksalt("Ag", "Cl", 5.55),
                cesium_chloride("Cs", "Cl", 4.12), zns, zincblende("Ga", "P", 5.45) * (1, 1, 2),
                rocksalt("Na", "Cl", 5.64)]
    return pool_from_structures(crystals, ids=["KCl", "AgCl", "CsCl", "ZnS", "GaP", "NaCl"])


def test_types_collapse_one_prototype_and_count_members(pool):
    store = TemplateStore().add_table(pool).exclude_formulas(["NaCl"])
    assert len(store) == 5 and "NaCl" not in store.formulas
    types = store.types("NaCl")
    assert [(t.count, t.space_group) for t in types] == [(2, 216), (2, 225), (1, 221)]
    rock = next(t for t in types if t.space_group == 225)
    assert sorted(m.id for m in rock.members) == ["AgCl", "KCl"]
    assert {m.id for m in types[0].members} == {"GaP", "ZnS"}  # two cells, one type


def test_each_type_substituted_from_its_most_similar_member(pool):
    store = TemplateStore().add_table(pool).exclude_formulas(["NaCl"])
    gen = TemplateGenerator(per_type=1).fit(store, VolumeModel())
    choices = gen.type_choices("NaCl")
    assert len(choices) == 3  # one per type
    rock = next(c for c in choices if c[4].space_group == 225)
    # Na is closer to K than to Ag in the element-feature space
    assert rock[2].id == "KCl" and rock[3] == {"K": "Na", "Cl": "Cl"}
    priors = [c[0] for c in choices]
    assert priors == sorted(priors)
    ideal = gen.ideal("NaCl")
    assert [c.info["type_count"] for c in ideal] == [c[4].count for c in choices]
    assert all(c.structure.composition.reduced_formula == "NaCl" for c in ideal)


def test_fit_on_a_pool_table_and_predict(pool):
    csp = ShotgunCSP(generators=("template",), n_candidates=6, n_train=3, n_screen=2, top_k=3,
                     relax=False, volume_scan=(), prototypes=False, exclude_formulas=["NaCl"],
                     random_state=0).fit(pool)
    assert csp.pool_["templates"] == 5 and "NaCl" not in csp.templates_.formulas
    ranked, details = csp.predict(["NaCl"], return_details=True)
    assert all(isinstance(c, Candidate) and isinstance(c.structure, Structure)
               for c in ranked[0])
    assert details[0]["generated"] == {"template": 6}
    assert set(details[0]["profile"]) == {"generate", "evaluate", "screen", "rank"}
    assert "template: 6" in details[0]["provenance"]


def test_no_template_pattern_is_said_and_carried_by_wyckoff(pool):
    csp = ShotgunCSP(generators=("template", "wyckoff"), n_candidates=4, n_train=3,
                     n_screen=1, relax=False, volume_scan=(), prototypes=False,
                     random_state=0).fit(pool)
    ranked, details = csp.predict(["Na2O"], return_details=True)
    assert details[0]["generated"]["template"] == 0 and details[0]["generated"]["wyckoff"] > 0
    assert "no template has the stoichiometry pattern AB2" in details[0]["provenance"]
    assert "wyckoff" in details[0]["provenance"] and ranked[0]
    only_templates = ShotgunCSP(generators=("template",), relax=False, prototypes=False).fit(pool)
    with pytest.raises(NoCandidatesError, match="stoichiometry pattern AB2"):
        only_templates.predict(["Na2O"])


def test_bad_pools_and_inputs(pool):
    with pytest.raises(ValueError, match="pool table is empty"):
        ShotgunCSP(prototypes=False).fit(pool.iloc[:0])
    with pytest.raises(ValueError, match="cannot read a composition"):
        ShotgunCSP(relax=False, prototypes=False).fit(pool).predict(["Qq3"])
    with pytest.raises(ValueError, match="n_candidates"):
        ShotgunCSP(n_candidates=0).fit(pool)


def test_leave_one_out_reaches_the_wyckoff_statistics(pool):
    nacl_signature = wyckoff_signature(rocksalt("Na", "Cl", 5.64))
    csp = ShotgunCSP(generators=("wyckoff",), relax=False, prototypes=False,
                     exclude_formulas=["NaCl"]).fit(pool)
    assert csp.excluded_signatures_ == [nacl_signature]
    gen = csp.generators_[0]
    assert gen.excluded_[nacl_signature] == 1
    full = WyckoffGenerator(max_atoms=8).fit(TemplateStore(), VolumeModel())
    rock = lambda g: [c for sg, sites, c in g.wyckoff_sets("NaCl")  # noqa: E731
                      if sg == 225 and sorted(sites["Na"] + sites["Cl"]) == ["4a", "4b"]]
    left = WyckoffGenerator(max_atoms=8, exclude_signatures=csp.excluded_signatures_ * 2).fit(
        TemplateStore(), VolumeModel())
    assert [c - 2 for c in rock(full)] == rock(left)  # one count per left-out polymorph


def _mp_slice(path, formulas, every=200):
    """The pool rows of ``formulas`` (every polymorph) plus every ``every``-th other row."""
    keys = [f'"formula":"{f}"' for f in formulas]
    out = []
    with gzip.open(path, "rt") as fh:
        for i, line in enumerate(fh):
            if i % every == 0 or any(k in line for k in keys):
                out.append(line)
    return "".join(out)


@pytest.mark.shared_data
@pytest.mark.slow
def test_leave_one_out_cannot_leak_for_any_benchmark_target(shared_data, tmp_path):
    """For each of the 35 targets: no template, type member or Wyckoff count of its formula."""
    from skmdl.datasets.structures import load_structures

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        targets = {p.stem: Structure.from_file(p)
                   for p in sorted((shared_data / "csp" / "benchmark35").glob("*.cif"))}
    formulas = sorted({s.composition.reduced_formula for s in targets.values()})
    assert len(targets) == 35
    path = tmp_path / "slice.jsonl"
    path.write_text(_mp_slice(shared_data / "structures" / "mp_structures.jsonl.gz", formulas))
    pool = load_structures(path, cache=False)
    in_pool = Counter(pool["formula"])
    everything = list(TemplateStore().add_table(pool).add_aflow_prototypes())  # MP + AFLOW
    assert all(in_pool[f] > 0 for f in formulas)  # every target has a polymorph to leave out
    for formula in formulas:
        # Wyckoff statistics up to 12 atoms: fewer polymorphs to analyse, the same mechanism
        csp = ShotgunCSP(generators=(TemplateGenerator(max_atoms=60), WyckoffGenerator(
            max_atoms=12)), relax=False, exclude_formulas=[formula]).fit(pool)
        assert formula not in csp.templates_.formulas
        for typ in csp.templates_.types(formula, 60):
            assert all(m.formula != formula for m in typ.members), formula
        own = [t for t in everything if t.formula == formula and t.nsites <= 12]
        assert len(csp.excluded_signatures_) <= len(own)
        assert len(csp.excluded_signatures_) >= 0.8 * len(own), formula  # pyxtal skips few
        counts = csp.generators_[1].excluded_
        assert sum(counts.values()) == len(csp.excluded_signatures_)
        assert csp.pool_["templates"] == len(csp.templates_) == sum(
            t.formula != formula for t in everything)


@pytest.mark.shared_data
def test_readme_call_with_a_tiny_budget(shared_data, tmp_path):
    """ShotgunCSP(exclude_formulas=[f], random_state=0).fit(load_structures(...)).predict([f])."""
    from skmdl.datasets.structures import load_structures

    path = tmp_path / "slice.jsonl"
    path.write_text(_mp_slice(shared_data / "structures" / "mp_structures.jsonl.gz", ["GaAs"],
                              every=400))
    csp = ShotgunCSP(exclude_formulas=["GaAs"], random_state=0, n_candidates=20, n_train=6,
                     n_screen=4, n_prerelax=2, prerelax_steps=2, n_relax=1, relax_steps=5,
                     generators=("template",), volume_scan=())
    best = csp.fit(load_structures(path, cache=False)).predict(["GaAs"])[0]
    assert best and isinstance(best[0].structure, Structure) and best[0].relaxed
    assert best[0].structure.composition.reduced_formula == "GaAs"
    assert np.isfinite(best[0].energy_per_atom)
