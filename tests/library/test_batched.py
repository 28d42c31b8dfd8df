import json

import numpy as np
import pytest

from skmdl.library import ModelLibrary, TrainingConfig
from skmdl.library.batched import train_mlp_group
from skmdl.library.builder import draw_architecture, model_seed
from skmdl.library.training import train_mlp
from tinylib import build_tiny


def toy_data(seed=0):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(600, 12)).astype(np.float32)
    y = 2 * F[:, 0] + np.sin(F[:, 1]) + rng.normal(0, 0.1, len(F))
    return F[:400], y[:400], F[400:500], y[400:500], F[500:], y[500:]


def test_group_training_equals_one_by_one_without_dropout():
    cfg = TrainingConfig(max_epochs=8, patience=3, dropout=(0.0,))
    base = draw_architecture(model_seed(0, "t", 0), cfg)
    archs = [dict(base, lr=lr, weight_decay=wd, torch_seed=s)
             for lr, wd, s in [(1e-3, 1e-5, 1), (3e-3, 1e-4, 2), (5e-4, 0.0, 3)]]
    data = toy_data()
    together = train_mlp_group(*data, archs, cfg)
    for arch, (state, info) in zip(archs, together):
        ref_state, ref_info = train_mlp(*data, arch, cfg)
        assert info["epochs"] == ref_info["epochs"]
        for k in ref_state:
            np.testing.assert_allclose(state[k], ref_state[k], rtol=2e-4, atol=2e-5, err_msg=k)
        assert info["metrics"]["mae"] == pytest.approx(ref_info["metrics"]["mae"], rel=1e-3)


def test_l1_loss_and_a_step_budget_agree_one_by_one_and_grouped():
    """The second full-data recipe: L1 loss (early stopping on the validation MAE) and a
    budget of optimizer steps that raises the epochs of a small set; both trainers agree."""
    cfg = TrainingConfig(max_epochs=4, patience=2, dropout=(0.0,), loss="l1", min_steps=100)
    arch = dict(draw_architecture(model_seed(0, "t", 0), cfg), batch_size=100, torch_seed=3)
    data = toy_data()
    state, info = train_mlp(*data, arch, cfg)
    assert info["max_epochs"] == 25 and info["val_metric"] == "mae"   # 4 steps an epoch
    assert info["patience"] == 13 and info["epochs"] > 4
    (g_state, g_info), = train_mlp_group(*data, [arch], cfg)
    assert (g_info["max_epochs"], g_info["epochs"]) == (25, info["epochs"])
    assert g_info["metrics"]["mae"] == pytest.approx(info["metrics"]["mae"], rel=1e-3)
    huber, _ = train_mlp(*data, arch, TrainingConfig(max_epochs=4, patience=2, dropout=(0.0,)))
    assert not np.allclose(huber["out.weight"], state["out.weight"])
    with pytest.raises(ValueError, match="loss must be one of"):
        train_mlp(*data, arch, TrainingConfig(max_epochs=1, loss="hinge"))


def test_group_training_refuses_mixed_architectures():
    cfg = TrainingConfig()
    a = draw_architecture(model_seed(0, "t", 0), cfg)
    b = dict(a, hidden=a["hidden"] + [8])
    with pytest.raises(ValueError, match="share an architecture"):
        train_mlp_group(*toy_data(), [a, b], cfg)


def test_grouped_build_is_seeded_and_shares_architectures(tmp_path):
    build_tiny(tmp_path / "g1", n_models=4, group_size=2)
    build_tiny(tmp_path / "g2", n_models=4, group_size=2, n_jobs=2)
    idx = [json.loads((tmp_path / d / "index.json").read_text()) for d in ("g1", "g2")]
    h1 = {e["id"]: e["sha256"]["weights"] for e in idx[0]["models"]}
    h2 = {e["id"]: e["sha256"]["weights"] for e in idx[1]["models"]}
    assert h1 == h2 and len(h1) == 8
    lib = ModelLibrary(tmp_path / "g1")
    for task in ("toy_a", "toy_b"):
        cards = [lib.card(f"{task}-{k:03d}") for k in range(4)]
        arch = [(c["architecture"]["hidden"], c["architecture"]["activation"]) for c in cards]
        assert arch[0] == arch[1] and arch[2] == arch[3]
        assert cards[0]["training"]["lr"] != cards[1]["training"]["lr"]
    assert (lib.search()["r2"] > 0.2).all()
