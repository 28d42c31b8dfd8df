import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from skmdl.library import ModelLibrary, SourceTask, build
from skmdl.library.builder import TrainingConfig, draw_architecture, model_seed

from tinylib import DATA, SOURCES, TINY_FEATURIZER, build_tiny


def weight_hashes(root):
    with open(root / "index.json") as fh:
        return {e["id"]: e["sha256"]["weights"] for e in json.load(fh)["models"]}


def test_architecture_draws_are_seeded_and_in_range():
    cfg = TrainingConfig()
    a = [draw_architecture(model_seed(0, "t", k), cfg) for k in range(50)]
    b = [draw_architecture(model_seed(0, "t", k), cfg) for k in range(50)]
    assert a == b
    assert a != [draw_architecture(model_seed(1, "t", k), cfg) for k in range(50)]
    for arch in a:
        assert 1 <= len(arch["hidden"]) <= 5
        assert arch["hidden"] == sorted(arch["hidden"], reverse=True)
        assert set(arch["hidden"]) <= set(cfg.widths)
        assert cfg.lr[0] <= arch["lr"] <= cfg.lr[1]
    assert len({len(x["hidden"]) for x in a}) >= 4  # depths vary
    assert len({x["activation"] for x in a}) >= 3


def test_rebuild_is_bit_identical_and_skips_existing(tiny_library, tmp_path):
    result = build_tiny(tmp_path / "again")
    assert len(result["trained"]) == 4
    assert weight_hashes(tmp_path / "again") == weight_hashes(tiny_library)
    again = build_tiny(tmp_path / "again")
    assert again["trained"] == [] and len(again["skipped"]) == 4
    more = build_tiny(tmp_path / "again", n_models=3)  # grows the library
    assert sorted(more["trained"]) == ["toy_a-002", "toy_b-002"]


def test_joblib_and_dask_give_the_same_artifacts(tiny_library, tmp_path):
    distributed = pytest.importorskip("distributed")
    build_tiny(tmp_path / "joblib", n_jobs=2)
    assert weight_hashes(tmp_path / "joblib") == weight_hashes(tiny_library)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        build_tiny(tmp_path / "dask", client=client)
    assert weight_hashes(tmp_path / "dask") == weight_hashes(tiny_library)


def test_benchmark_targets_are_refused(tmp_path):
    with pytest.raises(ValueError, match="benchmark targets"):
        build([SourceTask("matbench_steels", "yield strength", "yield strength", "MPa")],
              tmp_path, data={"matbench_steels": (["Fe"], [1.0])})


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from tinylib import build, SOURCES, DATA, TINY_FEATURIZER
    from skmdl.library import TrainingConfig
    cfg = TrainingConfig(widths=(8, 16), n_layers=(1, 2), max_epochs=30, patience=5,
                         batch_sizes=(64,))
    build(SOURCES, {out!r}, featurizer=TINY_FEATURIZER, n_models=6, config=cfg, data=DATA)
""")


def test_build_killed_midway_resumes_without_corruption(tmp_path):
    out = tmp_path / "killed"
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tinylib.py
    script = KILL_SCRIPT.format(tests=tests_dir, out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script])
    models = out / "models"
    deadline = time.time() + 120
    while time.time() < deadline:
        done = [p for p in models.glob("*") if not p.name.startswith(".")] if models.exists() else []
        if len(done) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    finished = {p.name for p in models.iterdir() if not p.name.startswith(".")}
    assert 3 <= len(finished) < 12, finished
    # every artifact visible after the kill is complete
    for name in finished:
        assert {f.name for f in (models / name).iterdir()} == {"card.json", "weights.safetensors"}

    cfg = TrainingConfig(widths=(8, 16), n_layers=(1, 2), max_epochs=30, patience=5,
                         batch_sizes=(64,))
    result = build(SOURCES, out, featurizer=TINY_FEATURIZER, n_models=6, config=cfg, data=DATA)
    assert set(result["skipped"]) == finished  # no duplicated work
    assert len(result["trained"]) == 12 - len(finished)
    assert not [p for p in models.iterdir() if p.name.startswith(".")]  # temporaries cleaned
    lib = ModelLibrary(out)
    assert len(lib) == 12 and lib.verify()["ok"].all()

    # same artifacts as an uninterrupted build
    ref = tmp_path / "ref"
    build(SOURCES, ref, featurizer=TINY_FEATURIZER, n_models=6, config=cfg, data=DATA)
    assert weight_hashes(out) == weight_hashes(ref)


def test_progress_bar_is_silent_by_default(tmp_path, capsys):
    build_tiny(tmp_path / "quiet", n_models=1)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
