"""Crystal-structure source models: lazy structure tasks, the build, the embedded models."""

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from skmdl.datasets import StructureColumn
from skmdl.datasets.structures import pool_from_structures
from skmdl.library import ModelLibrary
from skmdl.library.artifact import featurizer_from_spec
from skmdl.library.builder import TrainingConfig, build
from skmdl.library.recipes_structure import STRUCTURE_SOURCES, structure_featurizer
from skmdl.library.tasks import featurize


def _rock_salts(n, seed=0):
    """Rock-salt crystals with random lattice constants; target: a smooth function of a."""
    rng = np.random.default_rng(seed)
    pairs = [("Na", "Cl"), ("Mg", "O"), ("K", "Br"), ("Li", "F"), ("Ca", "S")]
    out, y = [], []
    for i in range(n):
        a = rng.uniform(4.0, 6.5)
        A, B = pairs[i % len(pairs)]
        out.append(Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), [A, B],
                                             [[0, 0, 0], [0.5, 0.5, 0.5]]))
        y.append(-0.5 * a + (i % len(pairs)) * 0.1)
    return out, np.array(y)


def test_structure_column_is_lazy_and_list_like():
    structures, _ = _rock_salts(6)
    pool = pool_from_structures(structures, ids=[f"x-{i}" for i in range(6)]).set_index("id")
    col = StructureColumn(pool, ["x-3", "x-1", "x-3"])
    assert len(col) == 3 and col.ids == ["x-3", "x-1", "x-3"]
    assert col[0] == structures[3] and col[1] == structures[1]
    assert col[1:].ids == ["x-1", "x-3"] and col[[2, 0]].ids == ["x-3", "x-3"]
    assert [s.composition.reduced_formula for s in col] == ["LiF", "MgO", "LiF"]


def test_featurize_memo_keys_structures_by_id():
    structures, _ = _rock_salts(4)
    pool = pool_from_structures(structures, ids=list("abcd")).set_index("id")
    f, memo = structure_featurizer().fit(), {}
    F = featurize(f, StructureColumn(pool, list("abca")), memo)
    assert sorted(memo) == ["a", "b", "c"] and F.shape == (4, 1024)
    np.testing.assert_array_equal(F[0], F[3])
    np.testing.assert_allclose(F[1], f.transform([structures[1]])[0], rtol=1e-6)


def test_a_structure_source_builds_loads_and_predicts(tmp_path):
    structures, y = _rock_salts(60)
    split = np.array(["train"] * 40 + ["val"] * 10 + ["test"] * 10, dtype=object)
    source = STRUCTURE_SOURCES[0]
    config = TrainingConfig(n_layers=(1, 1), widths=(32,), max_epochs=5, patience=5)
    build([source], tmp_path, featurizer=structure_featurizer(), n_models=1, config=config,
          data={source.task: (structures, y, split)})
    lib = ModelLibrary(tmp_path)
    df = lib.search(kind="structure")
    assert df["id"].tolist() == ["mp2018_e_form-000"]
    assert df["descriptor"].iloc[0] == "structure:ofm:cutoff6"
    card = lib.card("mp2018_e_form-000")
    assert card["kind"] == "structure" and card["quantity"] == "formation energy"
    assert card["training"]["n_test"] == 10  # the given split, not a random one
    f = featurizer_from_spec(card["descriptor"])  # OFM is on the allow-list
    assert f.neighbors == "cutoff" and f.cutoff == 6.0
    pred = lib.predict("mp2018_e_form-000", structures[:3])
    assert pred.shape == (3,) and np.isfinite(pred).all()


@pytest.mark.shared_data
def test_mp2018_tasks_join_the_pool_with_the_megnet_split():
    from skmdl.datasets import load_task

    X, y, split = load_task("mp2018_gap_pbe", return_split=True)
    assert isinstance(X, StructureColumn) and len(X) == len(y) == len(split) == 51149
    assert split.value_counts().to_dict() == {"train": 44376, "val": 3653, "test": 3120}
    assert (y >= 0).all() and 0.3 < (y == 0).mean() < 0.5  # 39 % metals
    assert X[0].composition.reduced_formula == "As"


def test_embedded_structure_sources_predict_from_crystals():
    lib = ModelLibrary.default()
    df = lib.search(kind="structure")
    counts = df.groupby("task").size()
    assert set(counts.index) == {s.task for s in STRUCTURE_SOURCES} and (counts >= 5).all()
    assert df[["mae", "r2", "n_test"]].notna().all().all()
    assert (df.groupby("task")["r2"].max() > 0.6).all()
    salt = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                     [[0, 0, 0], [0.5, 0.5, 0.5]])
    copper = Structure(Lattice.cubic(3.61), ["Cu"] * 4,
                       [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    e_form = np.mean([lib.predict(i, [salt, copper])
                      for i in df[df.task == "mp2018_e_form"]["id"]], axis=0)
    gap = np.mean([lib.predict(i, [salt, copper])
                   for i in df[df.task == "mp2018_gap_pbe"]["id"]], axis=0)
    assert e_form[0] < -1.5 and abs(e_form[1]) < 0.4  # NaCl ~ -2.1 eV/atom, Cu 0
    assert gap[0] > 2.0 and gap[1] < 0.8  # NaCl PBE ~ 5 eV, Cu a metal


def test_transfer_regressor_uses_structure_sources_on_crystals():
    from skmdl.transfer import TransferRegressor

    structures, y = _rock_salts(40, seed=1)
    model = TransferRegressor(kind="structure", n_sources=2, random_state=0)
    model.fit(structures[:30], y[:30])
    assert all(i.startswith("mp2018_") for i in model.source_models_.ids)
    pred = model.predict(structures[30:])
    assert pred.shape == (10,) and np.isfinite(pred).all()
    assert "direct" in set(model.members_["member"])
