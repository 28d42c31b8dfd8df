import json
import shutil

from skmdl.cli import main


def test_list_search_info(tiny_library, capsys):
    assert main(["library", "list", "--library", str(tiny_library)]) == 0
    out = capsys.readouterr().out
    assert "toy_a-000" in out and "toy_b-001" in out
    assert main(["library", "search", "--library", str(tiny_library), "--text", "B"]) == 0
    out = capsys.readouterr().out
    assert "toy_b-000" in out and "toy_a-000" not in out
    assert main(["library", "info", "--library", str(tiny_library), "toy_a-001"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["id"] == "toy_a-001"


def test_info_unknown_model(tiny_library, capsys):
    assert main(["library", "info", "--library", str(tiny_library), "nope"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err


def test_verify(tiny_library, tmp_path, capsys):
    root = tmp_path / "lib"
    shutil.copytree(tiny_library, root)
    assert main(["library", "verify", "--library", str(root)]) == 0
    assert "4 of 4 artifacts verified" in capsys.readouterr().out
    w = root / "models" / "toy_a-001" / "weights.safetensors"
    w.write_bytes(w.read_bytes() + b"x")
    assert main(["library", "verify", "--library", str(root)]) == 1
    out = capsys.readouterr().out
    assert "FAILED toy_a-001" in out and "3 of 4" in out
