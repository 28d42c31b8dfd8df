"""``skmdl``'s entry point: help for every command and option, and which errors are input
errors (exit code 2, one line) and which are bugs (a traceback)."""

import argparse
import warnings

import pytest

from skmdl.cli import build_parser, is_input_error, main
from skmdl.cli._io import InputError
from skmdl.exceptions import FeaturizationWarning, FormulaError, UnknownModelError


def test_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for command in ("featurize", "fit", "predict", "csp", "library"):
        assert command in out


def _subparsers(parser, prog="skmdl"):
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subparsers(sub, f"{prog} {name}")


def test_every_command_and_option_has_help():
    seen = []
    for prog, parser in _subparsers(build_parser()):
        seen.append(prog)
        assert parser.description, prog
        undocumented = [a.dest for a in parser._actions
                        if not a.help and not isinstance(a, argparse._SubParsersAction)
]
        assert not undocumented, (prog, undocumented)
    assert {"skmdl fit", "skmdl predict", "skmdl csp", "skmdl library catalogue"} <= set(seen)


@pytest.mark.parametrize("exc", [
    InputError("--top-k must be at least 1"),
    FormulaError("unknown element 'Xx'", item="Xx2", row=3),
    UnknownModelError("no model 'x'", model_id="x"),
    FileNotFoundError(2, "No such file or directory", "in.csv"),
    PermissionError(13, "Permission denied", "out/"),
    ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow"),
    ImportError('reading Parquet tables needs the optional package \'pyarrow\'', name="pyarrow"),
])
def test_input_errors(exc):
    assert is_input_error(exc)


@pytest.mark.parametrize("exc", [
    KeyError("model_id"), TypeError("unsupported operand"), ValueError("shapes differ"),
    AttributeError("x"), ImportError("cannot import name 'y' from 'skmdl.z'", name="skmdl.z"),
    ModuleNotFoundError("No module named 'skmdl.gone'", name="skmdl.gone"),
])
def test_bugs_are_not_input_errors(exc):
    assert not is_input_error(exc)


def test_a_bug_is_a_traceback(monkeypatch, tmp_path):
    """A plain KeyError from skmdl's own code propagates out of main instead of exit code 2."""
    from skmdl.cli import featurize

    def broken(args):
        raise KeyError("an internal table lookup")

    monkeypatch.setattr(featurize, "make_featurizer", broken)
    src = tmp_path / "in.csv"
    src.write_text("formula\nNaCl\n")
    with pytest.raises(KeyError, match="internal table lookup"):
        main(["featurize", str(src), str(tmp_path / "o.csv")])


def test_chunked_featurization_adds_up_the_warnings():
    """Rows and counts of the chunks' FeaturizationWarnings, read from their attributes."""
    from skmdl.cli._io import in_chunks
    from skmdl.descriptors import CompositionFeaturizer

    class Bar:
        def update(self, n):
            pass

    f = CompositionFeaturizer(errors="nan").fit()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F = in_chunks(f.transform, ["NaCl", "Xx", "MgO", "Qq", "Zz"], 2, Bar())
    (w,) = [w.message for w in caught if isinstance(w.message, FeaturizationWarning)]
    assert (w.n_failed, w.n_total, w.rows, w.noun) == (3, 5, (1, 3, 4), "formulas")
    assert F.shape[0] == 5
    with pytest.raises(FormulaError) as info:
        in_chunks(f.set_params(errors="raise").transform, ["NaCl", "MgO", "Qq"], 2, Bar())
    assert (info.value.row, info.value.item) == (2, "Qq")


def test_chunks_let_a_plain_value_error_be_a_bug():
    """Only an InvalidInputError is bad input; any other ValueError passes through as it is."""
    from skmdl.cli._io import InputError, in_chunks

    class Bar:
        def update(self, n):
            pass

    def broken(part):
        raise ValueError("shapes (2,3) and (4,) not aligned (row 1)")

    with pytest.raises(ValueError, match=r"\(row 1\)") as info:
        in_chunks(broken, ["NaCl"] * 4, 2, Bar())
    assert type(info.value) is ValueError and not isinstance(info.value, InputError)
