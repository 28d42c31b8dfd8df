"""float16 storage of weight matrices: smaller files, predictions within the tolerance."""

import json
import shutil

import numpy as np
import pytest
import torch

from skmdl.cli import main
from skmdl.library import ArtifactIntegrityError, MLP, ModelLibrary, load_artifact, write_artifact
from skmdl.library.artifact import FLOAT16_TOLERANCE, WEIGHTS, float16_change, storage_dtype
from skmdl.library.compact import compact_library
from skmdl.library.library import index_entry, write_index

from tinylib import DATA, TINY_FEATURIZER


def trained_like_net(n_in=40, hidden=(256, 128), seed=0):
    """A network with weights of the spread training gives (He-scaled), not tiny ones."""
    torch.manual_seed(seed)
    net = MLP(n_in, list(hidden), "silu")
    with torch.no_grad():
        for layer in net.hidden:
            layer.weight.normal_(0, (2 / layer.in_features) ** 0.5)
            layer.bias.normal_(0, 0.1)
        net.out.weight.normal_(0, 0.2 / layer.in_features ** 0.5)  # outputs of spread ~0.5
        net.x_mean.normal_(0, 3)
        net.x_scale.uniform_(0.5, 2)
        net.y_mean.fill_(-1.5)
        net.y_scale.fill_(0.8)
    return net.eval()


def test_float16_artifact_is_half_the_size_and_loads_as_float32(tmp_path):
    net = trained_like_net()
    write_artifact(tmp_path / "f32", net, {"id": "m", "architecture": {
        "n_in": 40, "hidden": [256, 128], "activation": "silu"}})
    card = json.loads((tmp_path / "f32" / "card.json").read_text())
    write_artifact(tmp_path / "f16", net, card, "float16")
    size = {k: (tmp_path / k / WEIGHTS).stat().st_size for k in ("f32", "f16")}
    assert size["f16"] < 0.55 * size["f32"]
    loaded, _ = load_artifact(tmp_path / "f16")
    assert all(t.dtype == torch.float32 for t in loaded.state_dict().values())
    x = torch.randn(300, 40) * net.x_scale + net.x_mean
    with torch.no_grad():
        exact, half = net(x), loaded(x)
    change = ((half - exact).abs() / net.y_scale).max().item()
    assert 0 < change <= float16_change(net) * 3  # the probe sees what real inputs see
    assert change < FLOAT16_TOLERANCE


def test_storage_dtype_refuses_float16_past_the_tolerance():
    net = trained_like_net()
    dtype, change = storage_dtype(net)
    assert dtype == "float16" and 0 < change < FLOAT16_TOLERANCE
    assert storage_dtype(net, tolerance=change / 2) == ("float32", change)
    with pytest.raises(ValueError, match="weights_dtype"):
        write_artifact("unused", net, {}, "int8")


def test_an_artifact_with_other_dtypes_is_refused(tmp_path):
    from safetensors.torch import save_file

    net = trained_like_net()
    write_artifact(tmp_path / "m", net, {"id": "m", "architecture": {
        "n_in": 40, "hidden": [256, 128], "activation": "silu"}})
    for bad in ({"x_mean": torch.float16}, {"out.weight": torch.float64},
                {"hidden.0.weight": torch.int32}):
        state = {k: v.to(bad.get(k, v.dtype)) for k, v in net.state_dict().items()}
        save_file(state, str(tmp_path / "m" / WEIGHTS))
        with pytest.raises(ArtifactIntegrityError, match="dtype"):
            load_artifact(tmp_path / "m")


def test_compact_library_keeps_predictions_and_verifies(tiny_library, tmp_path):
    root = tmp_path / "lib"
    shutil.copytree(tiny_library, root)
    X, _ = DATA["toy_a"]
    before = {m: ModelLibrary(root).load(m)[0] for m in ModelLibrary(root).search().id}
    # the builder already stores float16 where allowed: make a float32 library of the same
    # networks, with weights nudged off the float16 grid, to compact
    torch.manual_seed(0)
    entries = json.loads((root / "index.json").read_text())["models"]
    for e in entries:
        with torch.no_grad():
            for p in before[e["id"]].parameters():
                p.mul_(1 + 1e-4 * torch.randn_like(p))
        card = json.loads((root / e["path"] / "card.json").read_text())
        card.pop("storage")
        write_artifact(root / e["path"], before[e["id"]], card)
    write_index(root, [index_entry(root, e["path"]) for e in entries])
    assert ModelLibrary(root).verify().ok.all()
    compact_library(root, tolerance=0.0)  # nothing qualifies: rewritten float32, re-hashed
    assert ModelLibrary(root).verify().ok.all()
    report = compact_library(root)
    assert (report.weights == "float16").all() and (report.float16_change < 1e-3).all()
    assert (report.bytes_after < report.bytes_before).all()
    lib = ModelLibrary(root)
    assert lib.verify().ok.all()
    F = torch.tensor(TINY_FEATURIZER.fit().transform(X), dtype=torch.float32)
    for model_id, exact in before.items():
        module, card = lib.load(model_id)[0], lib.card(model_id)
        assert card["storage"]["weights"] == "float16"
        with torch.no_grad():
            change = ((module(F) - exact(F)).abs() / exact.y_scale).max().item()
        assert change < FLOAT16_TOLERANCE
    again = compact_library(root)  # idempotent: nothing rewritten
    assert (again.bytes_after == again.bytes_before).all()


def test_cli_compact(tiny_library, tmp_path, capsys):
    root = tmp_path / "lib"
    shutil.copytree(tiny_library, root)
    assert main(["library", "compact", str(root)]) == 0
    assert "4 of 4 models in float16" in capsys.readouterr().out
    (root / "index.json").write_text("{")
    assert main(["library", "compact", str(root)]) == 2
    assert "index" in capsys.readouterr().err


def test_embedded_float16_models_reproduce_their_full_precision_outputs():
    """Every embedded model stored in float16 gives, from the packaged file, the outputs its
    float32 network gave on the probe (recorded in its card before rounding)."""
    from skmdl.library.artifact import probe_outputs

    lib = ModelLibrary.default()
    half = [m for m in lib.search().id
            if lib.card(m).get("storage", {}).get("weights") == "float16"]
    assert len(half) >= 250  # 285 of 313 when compacted
    for model_id in half:
        module, card = lib.load(model_id)[0], lib.card(model_id)
        reference = np.array(card["storage"]["reference"])
        change = np.abs(np.array(probe_outputs(module, len(reference))) - reference).max()
        assert change < FLOAT16_TOLERANCE, model_id
