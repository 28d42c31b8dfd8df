"""Linear (ridge) sources stored as exact two-unit networks: the pair-interaction alloy models."""

import numpy as np
import pytest
import torch

from skmdl.descriptors import PairFractionFeaturizer
from skmdl.library import ModelLibrary
from skmdl.library.linear import build_linear_sources, linear_mlp
from skmdl.library.tasks import SourceTask

W = {("Al", "Ni"): -2.0, ("Co", "Ni"): -0.4, ("Al", "Co"): -1.6, ("Fe", "Ni"): -0.3,
     ("Al", "Fe"): -1.2, ("Co", "Fe"): 0.2}


def regular_solution(formula_fracs):
    return sum(w * formula_fracs.get(a, 0) * formula_fracs.get(b, 0) for (a, b), w in W.items())


def _alloys(n_max, rng, count):
    els = ["Al", "Co", "Fe", "Ni"]
    out = []
    for _ in range(count):
        k = rng.integers(2, n_max + 1)
        pick = rng.choice(els, size=k, replace=False)
        amounts = rng.integers(1, 5, size=k)
        out.append({str(e): int(a) for e, a in zip(pick, amounts)})
    return out


def test_linear_mlp_is_the_linear_model_exactly():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=7), 0.3
    x = rng.normal(size=(50, 7))
    got = linear_mlp(w, b)(torch.as_tensor(x, dtype=torch.float32)).detach().numpy()[:, 0]
    np.testing.assert_allclose(got, x @ w + b, rtol=1e-5, atol=1e-5)


def test_pair_sources_learned_on_binaries_and_ternaries_predict_quaternaries(tmp_path):
    rng = np.random.default_rng(1)
    comps = _alloys(3, rng, 400) + [{"Al": 1, "O": 1}] * 5  # oxides never enter the fit
    X = ["".join(f"{e}{a}" for e, a in c.items()) for c in comps]
    y = np.array([regular_solution({e: a / sum(c.values()) for e, a in c.items()})
                  for c in comps])
    split = np.array(["train"] * 300 + ["test"] * 105, dtype=object)
    source = SourceTask("toy_alloys", "toy enthalpy, <= 3 metals, pairs", "formation energy",
                        "eV/atom", fidelity="toy", max_elements=3, name="toy_pairs")
    featurizer = PairFractionFeaturizer(elements=["Al", "Co", "Fe", "Ni"])
    out = build_linear_sources([source], tmp_path, featurizer, alphas=(1e-6, 1e-3), seed=0,
                               data={"toy_alloys": (X, y, split)}, excluded=())
    assert out["trained"] == ["toy_pairs-000", "toy_pairs-001"]
    lib = ModelLibrary(tmp_path)
    assert lib.verify()["ok"].all()
    card = lib.card("toy_pairs-000")
    assert card["max_elements"] == 3 and card["quantity"] == "formation energy"
    assert "at most 3 elements" in card["training"]["cleaning"]
    assert card["training"]["n_train"] == int(0.9 * 300) and card["training"]["n_test"] == 100
    assert card["metrics"]["mae"] < 1e-3 and card["descriptor"]["class"] == "PairFractionFeaturizer"
    quaternary = {"Al": 1, "Co": 1, "Fe": 1, "Ni": 1}
    want = regular_solution({e: 0.25 for e in quaternary})
    assert lib.predict("toy_pairs-000", ["AlCoFeNi"])[0] == pytest.approx(want, abs=1e-3)
    hidden = lib.hidden("toy_pairs-000", ["AlCoFeNi", "AlNi"])
    assert hidden.shape == (2, 2) and (hidden >= 0).all()  # relu(+s), relu(-s)
    again = build_linear_sources([source], tmp_path, featurizer, alphas=(1e-6, 1e-3),
                                 data={"toy_alloys": (X, y, split)}, excluded=())
    assert again["trained"] == [] and len(again["skipped"]) == 2


def test_a_benchmark_target_cannot_become_a_linear_source(tmp_path):
    source = SourceTask("matbench_steels", "x", "x", "MPa")
    with pytest.raises(ValueError, match="benchmark targets"):
        build_linear_sources([source], tmp_path, PairFractionFeaturizer())
