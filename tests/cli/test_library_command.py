"""``skmdl library``: info on a model id, the catalogue of a model folder.

(The other subcommands are tested with the library, in ``tests/library/test_cli_library.py``.)
"""

import json

from skmdl.cli import main


def test_library_info_prints_a_card(fitted, capsys):
    from skmdl.library import ModelLibrary

    # the model folder holds only the networks its kept members use (maybe none: direct)
    ids = ModelLibrary(str(fitted)).search()["id"].tolist()
    library = str(fitted) if ids else str(ModelLibrary.default().root)
    model_id = (ids or ModelLibrary.default().search()["id"].tolist())[0]
    assert main(["library", "info", "--library", library, model_id]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == model_id


def test_library_info_unknown_id_is_an_input_error(fitted, error_line):
    assert main(["library", "info", "--library", str(fitted), "no-such-model"]) == 2
    assert "no model 'no-such-model'" in error_line("library info")


def test_library_catalogue(fitted, tmp_path, capsys, error_line):
    out = tmp_path / "cat"
    code = main(["library", "catalogue", str(out), "--library", str(fitted)])
    try:
        import skmdl.library.catalogue  # noqa: F401 - written by another change
    except ModuleNotFoundError:
        assert code == 2
        assert "no catalogue writer" in error_line("library catalogue")
        return
    assert code == 0
    assert (out / "index.html").is_file()
