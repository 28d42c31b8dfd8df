"""Every command in README.md runs as written, or, where it would run for hours, is well-formed.

* ```python blocks run in order, one namespace per README section, in an empty
  working folder; a block that reads $SKMDL_DATA is skipped when that is unset
  (the others still run, then the test reports the skip).
* ```bash blocks are split into commands (lines, then ``&&``). Each command is
  matched against :data:`COMMANDS`, which says how it is checked and why: cheap
  ones run for real in one working folder per block (so a command can read the
  files of the one before); expensive ones are checked without running (pip:
  against pyproject.toml and what is installed; benchmark scripts and the costly
  CLI commands: their argparse parser must accept the README's arguments). A
  command that matches nothing fails the test, so nothing is skipped silently.
* Benchmark commands quoted inline (`` `SKMDL_DATA=... python benchmarks/x.py ...` ``),
  the extra flags quoted in the same README section, and the CLI commands named
  in prose are parsed by their scripts' parsers.

Everything runs on one thread per process (BLAS, OpenMP, torch), as under
``pytest -n 2`` on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import os
import re
import runpy
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from skmdl.utils.threads import one_thread

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: How each kind of README command is checked, first match wins:
#: (leading words, action, reason). A word ending in "/" matches any word it starts.
COMMANDS = [
    (("pip", "install"), "pip",
     "installs packages: checked against pyproject.toml and the installed versions instead"),
    (("python", "-m", "pytest"), "pytest",
     "the whole test suite, this file included: checked that pytest, pytest-xdist and the "
     "test folder are there"),
    (("python", "-m", "sphinx"), "sphinx",
     "builds the docs and runs every gallery example (minutes; tests/test_docs.py builds "
     "them): checked that sphinx's parser accepts the arguments and doc/conf.py exists"),
    (("python", "-m", "skmdl.demo"), "run", "the bundled-data demo, ~60 s CPU"),
    (("python", "-c"), "run", "inline Python, e.g. writing an input table"),
    (("python", "benchmarks/"), "parse",
     "benchmark scripts run for minutes to hours: their parser must accept the arguments"),
    (("skmdl", "csp"), "parse",
     "CHGNet energies of every candidate (~20 s CPU); ShotgunCSP is tested in tests/csp"),
    (("skmdl", "library", "build"), "parse", "trains networks for minutes"),
    (("skmdl",), "run", "the other CLI commands take seconds: run in order"),
]

#: a ```python block that reads the shared data (skipped without $SKMDL_DATA)
NEEDS_DATA = re.compile(r"SKMDL_DATA|data_home\(|load_task\(|matbench_folds\(|shared/data")

#: commands run with one thread per process (unless the caller set these)
ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS")}

ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


# --------------------------------------------------------------------------- README parsing
@dataclass
class Block:
    lang: str
    code: str
    line: int  # README line of the first code line
    section: str


def _sections(lines):
    """Heading in force at each line (the nearest ## or ### above it)."""
    heading, out = "(top)", []
    for text in lines:
        if re.match(r"^#{2,3} ", text):
            heading = text.lstrip("#").strip()
        out.append(heading)
    return out


def read_blocks(text):
    lines = text.splitlines()
    section_of = _sections(lines)
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if m:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append(Block(m.group(1), "\n".join(lines[i + 1:end]) + "\n", i + 2,
                                section_of[i]))
            i = end
        i += 1
    return blocks


def read_inline(text):
    """(line, section, code) of every inline `code` span outside the fenced blocks."""
    lines, out, fenced = text.splitlines(), [], False
    section_of = _sections(lines)
    for n, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out += [(n + 1, section_of[n], m.group(1)) for m in re.finditer(r"`([^`]+)`", line)]
    return out


TEXT = README.read_text()
BLOCKS = read_blocks(TEXT)
INLINE = read_inline(TEXT)


def split_commands(block):
    """(README line, words) of each command of a bash block: by line, then by ``&&``."""
    out = []
    for offset, line in enumerate(block.code.splitlines()):
        words = shlex.split(line, comments=True)
        cmd = []
        for w in words + ["&&"]:
            if w == "&&":
                if cmd:
                    out.append((block.line + offset, cmd))
                cmd = []
            else:
                cmd.append(w)
    return out


def split_env(words):
    """Leading ``NAME=value`` words as a dict, and the command after them."""
    env = {}
    while words and ENV_ASSIGNMENT.match(words[0]):
        name, value = words[0].split("=", 1)
        env[name] = value
        words = words[1:]
    return env, words


def classify(words):
    for prefix, action, reason in COMMANDS:
        if len(words) >= len(prefix) and all(
                w.startswith(p) if p.endswith("/") else w == p for p, w in zip(prefix, words)):
            return action, reason
    return None, None


def _shared_data():
    path = os.environ.get("SKMDL_DATA")
    return path if path and Path(path).is_dir() else None


# --------------------------------------------------------------------------- checkers
class _Parsed(BaseException):  # not an Exception: a program's `except Exception` lets it by
    def __init__(self, namespace):
        self.namespace = namespace


@contextlib.contextmanager
def parse_only(argv):
    """Make the next top-level ``parse_args`` parse ``argv`` and stop the program there.

    A script that parsed its arguments any other way would run for real, so
    ``parse_known_args`` outside ``parse_args`` is refused.
    """
    parse_args, parse_known = argparse.ArgumentParser.parse_args, \
        argparse.ArgumentParser.parse_known_args
    depth = [0]

    def patched_parse_args(self, args=None, namespace=None):
        depth[0] += 1
        try:
            ns = parse_args(self, argv, namespace)
        finally:
            depth[0] -= 1
        raise _Parsed(ns)

    def patched_parse_known(self, args=None, namespace=None):
        if depth[0] == 0:
            raise AssertionError("the script parses its arguments with parse_known_args; "
                                 "this test cannot stop it before it runs")
        return parse_known(self, args, namespace)

    argparse.ArgumentParser.parse_args = patched_parse_args
    argparse.ArgumentParser.parse_known_args = patched_parse_known
    try:
        yield
    finally:
        argparse.ArgumentParser.parse_args = parse_args
        argparse.ArgumentParser.parse_known_args = parse_known


def check_parses(words, where, monkeypatch, capsys, env=None, help_ok=False):
    """Run a benchmark script or the CLI up to its argument parsing, on ``words``."""
    if words[0] == "python":
        script = ROOT / words[1]
        assert script.is_file(), f"{where}: {words[1]} does not exist"
        monkeypatch.syspath_prepend(str(script.parent))
        monkeypatch.setattr(sys, "argv", [str(script), *words[2:]])

        def run():
            runpy.run_path(str(script), run_name="__main__")
    else:
        assert words[0] == "skmdl", words
        from skmdl.cli import main

        def run():
            main(words[1:])
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    argv = words[2:] if words[0] == "python" else words[1:]
    try:
        with parse_only(argv):
            run()
    except _Parsed:
        return
    except SystemExit as exc:
        if help_ok and exc.code == 0:
            return
        err = capsys.readouterr().err.strip().splitlines()
        pytest.fail(f"{where}: `{shlex.join(words)}` is rejected by its parser: "
                    f"{err[-1] if err else exc}")
    pytest.fail(f"{where}: `{shlex.join(words)}` finished without parsing any arguments")


def check_pip(words, where):
    """``pip install`` of pinned packages and of this project with extras."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    from packaging.requirements import Requirement
    from packaging.version import Version

    def satisfied(req):
        try:
            installed = Version(importlib.metadata.version(req.name))
        except importlib.metadata.PackageNotFoundError:
            return f"{req.name} is not installed"
        if not req.specifier.contains(Version(installed.base_version), prereleases=True):
            return f"{req.name} {installed} is installed but {req} is required"
        return None

    args = [w for w in words[2:] if w != "-e"]
    assert args, f"{where}: `pip install` of nothing"
    for arg in args:
        assert not arg.startswith("-"), f"{where}: unexpected pip option {arg}"
        m = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", arg)
        if m:  # this project, with extras
            extras = m.group(1).split(",") if m.group(1) else []
            unknown = set(extras) - set(pyproject.get("optional-dependencies", {}))
            assert not unknown, f"{where}: pyproject.toml has no extra {sorted(unknown)}"
            reqs = pyproject["dependencies"] + [
                r for e in extras for r in pyproject["optional-dependencies"][e]]
            problems = [p for p in map(satisfied, map(Requirement, reqs)) if p]
            assert not problems, f"{where}: {arg}: {problems}"
            continue
        req = Requirement(arg)
        deps = {Requirement(r).name: Requirement(r) for r in pyproject["dependencies"]}
        if req.name in deps:  # a pin must be allowed by the project's own requirement
            for spec in req.specifier:
                assert deps[req.name].specifier.contains(spec.version), \
                    f"{where}: {arg} conflicts with pyproject.toml's {deps[req.name]}"
        assert satisfied(req) is None, f"{where}: {satisfied(req)} (the tests ran with it)"


def check_pytest(words, where):
    args = words[3:]
    if "-n" in args:
        assert importlib.util.find_spec("xdist"), f"{where}: -n needs pytest-xdist"
    paths = [a for a in args if not a.startswith("-") and not a.isdigit()]
    for p in paths:
        assert (ROOT / p).exists(), f"{where}: {p} does not exist"


def check_sphinx(words, where, capsys):
    from sphinx.cmd.build import get_parser

    try:
        ns = get_parser().parse_args(words[3:])
    except SystemExit:
        pytest.fail(f"{where}: sphinx rejects `{shlex.join(words)}`: "
                    f"{capsys.readouterr().err.strip()}")
    assert (ROOT / ns.sourcedir / "conf.py").is_file(), f"{where}: no {ns.sourcedir}/conf.py"


def run_command(words, env, where, cwd):
    """Run one command with bash in ``cwd``; ``python`` and ``skmdl`` of this interpreter."""
    full_env = {**ONE_THREAD_ENV, **os.environ}
    full_env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent),
                                        full_env.get("PATH", "")])
    for name, value in env.items():  # README paths are relative to the repository root
        full_env[name] = str(ROOT / value) if (ROOT / value).exists() else value
    proc = subprocess.run(["bash", "-c", shlex.join(words)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        pytest.fail(f"{where}: `{shlex.join(words)}` exited {proc.returncode}:\n"
                    + "\n".join(tail))
    return proc


# --------------------------------------------------------------------------- tests
PYTHON_SECTIONS = list(dict.fromkeys(b.section for b in BLOCKS if b.lang == "python"))
BASH_BLOCKS = [b for b in BLOCKS if b.lang == "bash"]


def test_readme_blocks_are_found_and_known():
    assert len(PYTHON_SECTIONS) >= 2 and len(BASH_BLOCKS) >= 2, [b.line for b in BLOCKS]
    # "text": a command's printed output, quoted beside it (nothing to run)
    unknown = [(b.line, b.lang) for b in BLOCKS if b.lang not in ("python", "bash", "text")]
    assert not unknown, f"README blocks of a language this test does not run: {unknown}"
    unclassified = [(line, shlex.join(words)) for b in BASH_BLOCKS
                    for line, words in split_commands(b) if classify(split_env(words)[1])[0]
                    is None]
    assert not unclassified, f"add these README commands to COMMANDS: {unclassified}"


@pytest.mark.parametrize("section", PYTHON_SECTIONS)
def test_python_blocks_run(section, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    skipped = []
    with one_thread():
        for block in (b for b in BLOCKS if b.lang == "python" and b.section == section):
            if NEEDS_DATA.search(block.code) and _shared_data() is None:
                skipped.append(block.line)
                continue
            # padded so that tracebacks give README line numbers
            code = compile("\n" * (block.line - 1) + block.code, str(README), "exec")
            exec(code, namespace)
    if skipped:
        pytest.skip(f"the others ran; the blocks at README lines {skipped} read $SKMDL_DATA, "
                    "which is unset")


@pytest.mark.parametrize("block", BASH_BLOCKS, ids=[f"line{b.line}" for b in BASH_BLOCKS])
def test_bash_commands(block, tmp_path, monkeypatch, capsys):
    skipped = []
    for line, words in split_commands(block):
        where = f"README line {line}"
        env, cmd = split_env(words)
        action, _ = classify(cmd)
        assert action, f"{where}: `{shlex.join(words)}` is not in COMMANDS"
        if action == "run":
            if ("SKMDL_DATA" in env or "SKMDL_DATA" in cmd) and _shared_data() is None \
                    and not (ROOT / env.get("SKMDL_DATA", "-")).is_dir():
                skipped.append(line)
                continue
            run_command(cmd, env, where, tmp_path)
        elif action == "parse":
            check_parses(cmd, where, monkeypatch, capsys, env)
        elif action == "pip":
            check_pip(cmd, where)
        elif action == "pytest":
            check_pytest(cmd, where)
        elif action == "sphinx":
            check_sphinx(cmd, where, capsys)
    if skipped:
        pytest.skip(f"the others were checked; the commands at README lines {skipped} read "
                    "$SKMDL_DATA, which is unset")


def _inline_benchmarks():
    """Inline benchmark commands: (line, words) with the section's extra flags appended."""
    out, base_of = [], {}
    for line, section, code in INLINE:
        if not re.search(r"python benchmarks/|^\.\.\. \S+\.py", code):
            continue
        env, cmd = split_env(shlex.split(code))
        words = cmd
        if words[0] == "...":  # "... x.py args" abbreviates the command given before it
            cmd = ["python", f"benchmarks/{words[1]}", *words[2:]]
        if len(cmd) >= 2 and cmd[0] == "python" and cmd[1].startswith("benchmarks/"):
            base_of.setdefault(section, cmd)
            out.append((line, cmd))
    for line, section, code in INLINE:  # `--flag value` quoted under a benchmark command
        if code.startswith("--") and section in base_of:
            out.append((line, base_of[section] + shlex.split(code)))
    return out


INLINE_BENCHMARKS = _inline_benchmarks()


def test_inline_benchmark_commands_are_found():
    assert len(INLINE_BENCHMARKS) >= 10
    scripts = {cmd[1] for _, cmd in INLINE_BENCHMARKS}
    assert {"benchmarks/csp_benchmark.py", "benchmarks/descriptor_speed.py"} <= scripts


@pytest.mark.parametrize("line, words", INLINE_BENCHMARKS,
                         ids=[f"line{n}-{' '.join(w[1:])[:60]}" for n, w in INLINE_BENCHMARKS])
def test_inline_benchmark_command_parses(line, words, monkeypatch, capsys):
    check_parses(words, f"README line {line}", monkeypatch, capsys)


def _inline_cli():
    """`skmdl ...` commands named in prose; ``a/b/c`` is several sub-commands."""
    out = []
    for line, _, code in INLINE:
        words = code.split()
        if len(words) >= 2 and words[0] == "skmdl" and all(
                re.fullmatch(r"[\w./-]+", w) for w in words):
            last = words[-1].split("/")
            out += [(line, words[:-1] + [alt]) for alt in last]
    return out


INLINE_CLI = _inline_cli()


@pytest.mark.parametrize("line, words", INLINE_CLI,
                         ids=[f"line{n}-{' '.join(w)}" for n, w in INLINE_CLI])
def test_inline_cli_command_exists(line, words, monkeypatch, capsys):
    # commands named without their required arguments: the sub-command's --help must work
    check_parses(words + ["--help"], f"README line {line}", monkeypatch, capsys, help_ok=True)


def test_ci_runs_setup_command_b():
    """README: `.ci/run` runs set-up command (b) verbatim."""
    assert "`.ci/run` runs (b)" in TEXT
    (b,) = [blk for blk in BASH_BLOCKS if "pytest" in blk.code]
    assert b.code.strip() in (ROOT / ".ci" / "run").read_text()
