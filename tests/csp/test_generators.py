import numpy as np
import pytest
from pymatgen.core import Composition

from skmdl.csp.generators import (RandomGenerator, TemplateGenerator, min_distance_ok,
                                  substitutions)
from skmdl.csp.wyckoff import WyckoffGenerator, wyckoff_signature
from skmdl.csp.templates import TemplateStore
from skmdl.csp.volume import VolumeModel


@pytest.fixture(scope="module")
def volume():
    return VolumeModel("library")


@pytest.fixture
def store(references):
    return TemplateStore().add_structures(references, ids=["KCl", "CsCl", "ZnS"])


def test_substitutions_swap_only_equal_amounts():
    maps = substitutions(Composition("KCl"), Composition("NaCl"))
    assert maps[0] == {"K": "Na", "Cl": "Cl"}  # most similar first
    assert len(maps) == 2  # both assignments of two equal-amount elements
    assert substitutions("Al2O3", "Fe2O3") == [{"Al": "Fe", "O": "O"}]
    assert substitutions("Al2O3", "NaCl") == []
    assert len(substitutions("LiFePO4", "NaMnPO4", max_assignments=100)) == 6


@pytest.mark.parametrize("cls", [TemplateGenerator, WyckoffGenerator, RandomGenerator])
def test_generators_give_composition_and_min_distance(cls, store, volume):
    # no time cap: a capped Wyckoff run returns what it has, which depends on the machine's load
    make = (lambda: cls(time_limit=None)) if cls is WyckoffGenerator else cls
    gen = make().fit(store, volume)
    cands = gen.generate("NaCl", 6, np.random.default_rng(0))
    assert cands, f"{cls.__name__} made no candidate"
    for c in cands:
        assert c.structure.composition.reduced_formula == "NaCl"
        assert min_distance_ok(c.structure, gen.min_distance_factor)
        assert c.generator == gen.name
    again = make().fit(store, volume).generate("NaCl", 6, np.random.default_rng(0))
    assert [c.structure for c in again] == [c.structure for c in cands]  # seeded


def test_template_generator_ideal_substitutions(store, volume):
    ideal = TemplateGenerator(volume="absolute").fit(store, volume).ideal("NaCl")
    assert {c.template_id for c in ideal} == {"KCl", "CsCl", "ZnS"}
    for c in ideal:  # scaled to the library's volume per atom
        assert c.structure.volume / len(c.structure) == pytest.approx(volume.per_atom("NaCl"))
        assert not c.info["perturbed"]
    templates = {t.id: t for t in store}
    for c in TemplateGenerator().fit(store, volume).ideal("NaCl"):
        # default: the template's own volume times the model's target/template ratio
        t = templates[c.template_id]
        ratio = volume.per_atom("NaCl") / volume.per_atom(t.formula)
        assert c.structure.volume == pytest.approx(t.structure.volume * ratio)
        assert c.info["type_count"] == 1 and c.info["type"].startswith("AB|")
    assert TemplateGenerator().fit(store, volume).ideal("Na2O") == []


def test_wyckoff_prior_learns_from_references(store, volume):
    gen = WyckoffGenerator().fit(store, volume)
    p = gen.space_group_prior("NaCl")
    assert p.shape == (230,) and p.sum() == pytest.approx(1)
    assert p[225 - 1] > 0.1 and p[221 - 1] > 0.1 and p[216 - 1] > 0.1
    assert p[1 - 1] < 0.01
    assert gen.space_group_prior("Na2O").argmax() in (225 - 1, 221 - 1, 216 - 1)  # global prior


def test_wyckoff_signature_and_mp_sets(nacl, volume):
    # rock salt: Fm-3m, 8 atoms in the conventional cell on 4a + 4b
    assert wyckoff_signature(nacl) == (225, 8, (10, 11))
    gen = WyckoffGenerator(max_atoms=8).fit(TemplateStore(), volume)
    sets = gen.wyckoff_sets("NaCl")
    rocksalt = [c for sg, sites, c in sets
                if sg == 225 and sorted(sites["Na"] + sites["Cl"]) == ["4a", "4b"]]
    assert len(rocksalt) == 2 and rocksalt[0] > 50  # both assignments, common in MP
    for sg, sites, _ in sets:  # every set holds exactly Z formula units
        n_na = sum(int(w[:-1]) for w in sites["Na"])
        assert n_na == sum(int(w[:-1]) for w in sites["Cl"]) and n_na <= 4
    left_out = WyckoffGenerator(max_atoms=8, exclude_signatures=[(225, 8, (10, 11))])
    counts = [c for sg, sites, c in left_out.fit(TemplateStore(), volume).wyckoff_sets("NaCl")
              if sg == 225 and sorted(sites["Na"] + sites["Cl"]) == ["4a", "4b"]]
    assert counts == [rocksalt[0] - 1] * 2


def test_wyckoff_generator_draws_mp_sets(volume):
    gen = WyckoffGenerator(max_atoms=8).fit(TemplateStore(), volume)
    cands = gen.generate("NaCl", 8, np.random.default_rng(1))
    assert len(cands) >= 4
    drawn = {(sg, tuple(sorted(s["Na"] + s["Cl"]))) for sg, s, _ in gen.wyckoff_sets("NaCl")}
    for c in cands:  # each candidate realises one of the MP sets that fit NaCl
        sites = c.info["wyckoff"]
        assert (c.space_group, tuple(sorted(sites["Na"] + sites["Cl"]))) in drawn
    with pytest.raises(ValueError, match="prior"):
        WyckoffGenerator(prior="bogus").fit(TemplateStore(), volume)


def test_wyckoff_attempt_budget_is_reproducible(volume):
    """Without the wall clock, the crystals depend on the seed alone; the budget caps pyxtal calls."""
    from unittest import mock

    from pyxtal import pyxtal

    gen = WyckoffGenerator(max_atoms=8, time_limit=None, max_attempts=6).fit(TemplateStore(),
                                                                             volume)
    with mock.patch.object(pyxtal, "from_random", autospec=True,
                           side_effect=pyxtal.from_random) as calls:
        first = gen.generate("NaCl", 50, np.random.default_rng(3))
    assert calls.call_count == 6 and 1 <= len(first) <= 6
    again = gen.generate("NaCl", 50, np.random.default_rng(3))
    assert [c.structure for c in again] == [c.structure for c in first]


def test_min_distance_rejects_overlap(nacl):
    squeezed = nacl.copy()
    squeezed.scale_lattice(nacl.volume * 0.1)
    assert min_distance_ok(nacl) and not min_distance_ok(squeezed)


@pytest.mark.parametrize("cls", [TemplateGenerator, WyckoffGenerator, RandomGenerator])
def test_generators_are_sklearn_parameter_holders(cls):
    from sklearn.base import clone

    gen = cls(max_atoms=7, min_distance_factor=0.5)
    params = gen.get_params()
    assert params["max_atoms"] == 7 and params["min_distance_factor"] == 0.5
    twin = clone(gen)
    assert twin is not gen and twin.get_params() == params
    assert twin.set_params(max_atoms=9).max_atoms == 9 and gen.max_atoms == 7
    assert repr(gen).startswith(f"{cls.__name__}(") and "max_atoms=7" in repr(gen)
