"""Fuzzing the public entry points with generated bad inputs.

Five families of inputs, each generated deterministically (seeded mutations of
valid inputs plus structured edge cases), are thrown at skmdl:

1. formulas -> ``CompositionFeaturizer`` (and ``ShotgunCSP.predict``'s input check)
2. SMILES and RDKit ``Mol`` objects -> ``RDKitDescriptors``, ``MorganFingerprint``,
   ``MACCSKeys``, with and without ``polymer=``
3. CIF text, CIF paths and ``Structure`` objects -> ``RadialDistributionFeaturizer``,
   ``OrbitalFieldMatrixFeaturizer(neighbors="cutoff")``
4. corrupted copies of a tiny model library -> ``ModelLibrary`` (open, verify, search,
   card, load, predict, hidden)
5. bad tables and model folders -> ``skmdl.cli.main`` (featurize, fit, predict,
   library info / verify)

Every input must end in a *clear outcome*: the documented exception (an
``InvalidInputError`` whose ``row``, ``item`` and ``label`` attributes name the
item and its row for the featurizers;
``ArtifactIntegrityError`` / ``FileNotFoundError`` naming the file for the
library; exit code 2 and one ``skmdl <command>: error:`` line for the command
line, with no output file left behind), a documented all-NaN row
(``errors="nan"``, with a ``FeaturizationWarning`` whose ``rows`` are the bad
rows), or, when a mutation happens to produce a valid input, a
normal result (without inf, the same in both ``errors`` modes). Anything else
-- another exception type, an error that does not name the input, an error row
that is not all NaN, more than ``TIME_LIMIT`` seconds, a leftover file -- is a
failure. One test runs all families (a per-family
summary is printed and attached to the report) and asserts at least
``MIN_BAD_INPUTS`` bad inputs with no failure; the tests after it pin the
library bugs the fuzzing found.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import os
import pickle
import random
import re
import shutil
import signal
import sys
import threading
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmdl.exceptions import (FeaturizationWarning, FormulaError, InvalidInputError,
                              MoleculeError, StructureError)

#: seconds one input may take
TIME_LIMIT = 5.0
#: a table that is good enough to train on trains TransferRegressor's default ensemble
#: (300 trees per member, calibration folds): seconds of real work, still far from a hang
FIT_TIME_LIMIT = 30.0
#: an input still running after this many time limits (stuck in compiled code) kills the process
KILL_AFTER = 12
#: bad inputs (not counting mutations that happened to be valid) the suite must try
MIN_BAD_INPUTS = 500
SEED = 20240611


# ---------------------------------------------------------------- the harness

class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in skmdl hides it."""


@contextlib.contextmanager
def time_limit(seconds, watchdog=None):
    """Interrupt the block after ``seconds`` (SIGALRM: Linux/macOS main thread only).

    Code inside a C extension is interrupted only when it returns to Python
    (the elapsed time is checked afterwards as well). With ``watchdog`` (a
    file), one that never returns -- a hang in compiled code -- gets the
    process killed after ``KILL_AFTER`` limits, every thread's traceback
    written to ``watchdog``: CI fails instead of hanging.
    """
    if watchdog is not None:
        faulthandler.dump_traceback_later(KILL_AFTER * seconds, exit=True, file=watchdog)
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        try:
            yield
        finally:
            faulthandler.cancel_dump_traceback_later()
        return

    def on_alarm(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


class Outcomes:
    """Outcomes per family: clear error, NaN row, accepted (a valid input), failure."""

    KINDS = ("error", "nan_row", "accepted", "failure")

    def __init__(self, watchdog=None):
        self.watchdog = watchdog
        self.counts = defaultdict(Counter)
        self.failures = defaultdict(list)
        self.seconds = Counter()
        self.slowest = Counter()

    def run(self, family, label, check, *args, count=True, limit=TIME_LIMIT, **kwargs):
        """Run ``check(*args, **kwargs)`` (returns a tuple of outcome kinds) under the time limit.

        ``count=False``: a consistency check, not an input (only a failure is recorded).
        ``limit``: seconds allowed (``TIME_LIMIT`` unless the call trains a model).
        """
        start = time.perf_counter()
        try:
            with time_limit(limit, self.watchdog), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                kinds = check(*args, **kwargs)
            reason = None
        except _Timeout:
            kinds, reason = ("failure",), f"no result within {limit} s"
        except AssertionError as exc:
            kinds, reason = ("failure",), f"unclear outcome: {_short(exc)}"
        except Exception as exc:  # noqa: BLE001 - a crash is what we are looking for
            kinds, reason = ("failure",), f"crash: {type(exc).__name__}: {_short(exc)}"
        elapsed = time.perf_counter() - start
        self.seconds[family] += elapsed
        self.slowest[family] = max(self.slowest[family], elapsed)
        if reason is None and elapsed > limit:
            kinds, reason = ("failure",), f"took {elapsed:.1f} s"
        if reason is not None:
            self.failures[family].append(f"{_short(label, 120)}: {reason}")
        if not count and reason is None:
            return
        self.counts[family]["inputs"] += 1
        if "error" in kinds or "nan_row" in kinds:
            self.counts[family]["bad inputs"] += 1
        for kind in kinds:
            self.counts[family][kind] += 1

    def table(self) -> str:
        cols = ("inputs", "bad inputs", *self.KINDS)
        lines = [f"{'family':<10}" + "".join(f"{c:>12}" for c in cols)
                 + f"{'seconds':>10}{'slowest':>10}"]
        for fam, c in self.counts.items():
            lines.append(f"{fam:<10}" + "".join(f"{c[k]:>12}" for k in cols)
                         + f"{self.seconds[fam]:>10.1f}{self.slowest[fam]:>10.2f}")
        total = sum(self.counts.values(), Counter())
        lines.append(f"{'total':<10}" + "".join(f"{total[k]:>12}" for k in cols)
                     + f"{sum(self.seconds.values()):>10.1f}"
                     + f"{max(self.slowest.values(), default=0):>10.2f}")
        return "\n".join(lines)


def _short(obj, n=300) -> str:
    try:
        text = repr(obj) if isinstance(obj, str) else " ".join(str(obj).split())
    except Exception:  # noqa: BLE001 - e.g. str() of a Composition with an infinite amount
        text = f"<{type(obj).__name__}>"
    return text if len(text) <= n else text[: n - 3] + "..."


def mutate_text(rng, text, alphabet, n_max=4) -> str:
    """``text`` with 1..n_max random deletions, insertions, replacements or slice copies."""
    s = list(text)
    for _ in range(rng.randint(1, n_max)):
        op = rng.randrange(4)
        if op == 0 and s:
            del s[rng.randrange(len(s))]
        elif op == 1:
            s.insert(rng.randrange(len(s) + 1), rng.choice(alphabet))
        elif op == 2 and s:
            s[rng.randrange(len(s))] = rng.choice(alphabet)
        elif s:
            i = rng.randrange(len(s))
            j = min(len(s), i + rng.randint(1, 4))
            s[i:i] = s[i:j]
    return "".join(s)


def featurization_warnings(caught) -> list:
    """The FeaturizationWarnings among recorded warnings."""
    return [w.message for w in caught if isinstance(w.message, FeaturizationWarning)]


def check_featurizer(f_raise, f_nan, item, names) -> tuple:
    """One item through a featurizer in ``errors="raise"`` and ``errors="nan"`` mode.

    A bad item must raise an InvalidInputError for row 0 carrying the item,
    whose label (the message's name of the item) holds every string of
    ``names``, and give an all-NaN row with a FeaturizationWarning for row 0
    in NaN mode. A valid item must give the same row in both modes, without inf.
    """
    try:
        row = f_raise.transform([item])
    except InvalidInputError as exc:
        assert exc.row == 0, f"row {exc.row!r}"
        assert exc.item is item, f"item {exc.item!r}"
        assert all(n in exc.label for n in names), f"label {exc.label!r}"
        assert exc.reason and exc.reason in str(exc), f"message {str(exc)!r}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nan_row = f_nan.transform([item])
        assert nan_row.shape == (1, len(f_raise.feature_names_out_)), nan_row.shape
        assert np.isnan(nan_row).all(), "errors='nan' gave a row that is not all NaN"
        assert [(w.n_failed, w.rows) for w in featurization_warnings(caught)] == [(1, (0,))], \
            "no FeaturizationWarning for row 0 in NaN mode"
        return ("error", "nan_row")
    assert row.shape == (1, len(f_raise.feature_names_out_)), row.shape
    assert not np.isinf(row).any(), "a valid input gave inf features"
    np.testing.assert_array_equal(f_nan.transform([item]), row)
    return ("accepted",)


# ---------------------------------------------------------------- 1. formulas

BASE_FORMULAS = ["Fe2O3", "NaCl", "Li0.5(Co0.2Ni0.8)O2", "CuSO4·5H2O", "Ag(AuS)2",
                 "Ba[Ti{O3}]2", "Al2(SO4)3", "La0.7Sr0.3MnO3", "D2O"]
FORMULA_ALPHABET = list("()[]{}·.,;:+-*/\\'\"#@!?%&=~^_|<> \t\n0123456789eExXqQjJ") + [
    "é", "中", "∞", "\x00", "\u200b", "Ω", "Fe", "Xx", "Qq", "nan", "inf", "1e400", "-1", "0",
    "9" * 40]


def formula_inputs(rng, n_mutations=400) -> list:
    """Mutated formulas, then structured bad cases (unknown elements, brackets, amounts, types)."""
    from pymatgen.core import Composition

    items = [mutate_text(rng, rng.choice(BASE_FORMULAS), FORMULA_ALPHABET)
             for _ in range(n_mutations)]
    for _ in range(25):
        sym = rng.choice(["Xx", "Qq", "Zz", "J", "A", "Ab", "Uuo", "Aa", "Ee", "Cx"])
        items.append(rng.choice(["", "Fe", "Na2"]) + sym + str(rng.randint(1, 9))
                     + rng.choice(["O", "Cl", ""]))
    for _ in range(25):
        a, b = rng.sample(range(12), 2)  # unbalanced: a != b
        items.append("(" * a + rng.choice(["Fe", "NaCl", "SiO2"]) + ")" * b + rng.choice(["2", ""]))
    for _ in range(15):  # nested brackets of random (mismatched) kinds
        depth = rng.randint(1, 60)
        opens = [rng.choice("([{") for _ in range(depth)]
        closes = [rng.choice(")]}") for _ in range(depth)]
        items.append("".join(opens) + "Fe" + "".join(c + str(rng.randint(0, 3)) for c in closes))
    for _ in range(30):
        amount = rng.choice(["9" * rng.randint(309, 700), "-2", "0", "0.0", "nan", "inf",
                             "1e5", "0." + "0" * 400 + "1", "-0", "2..5", ".", "1/2"])
        items.append(rng.choice(["Fe", "(Fe)", "Fe2O3·", "(SiO2)"]) + amount
                     + rng.choice(["O3", ""]))
    items += ["", " ", "\t\n", "·", "()", "[]", "{}", "Fe2O3·", "·5H2O", "Fe2O3··H2O",
              "(" * 10_000 + "Fe" + ")" * 9_999, "Q" * 100_000, "Xx" * 20_000,
              "Fe" + "9" * 308 + "O" + "9" * 308]
    items += [None, float("nan"), np.float32("nan"), 3, 2.5, True, 1j, b"Fe2O3", ["Fe"],
              ("Fe", 2), object(), pd.NA, {"Fe": None}, {"Fe": "x"}, {"Fe": [1]}, {"Fe": -1},
              {"Fe": float("nan")}, {"Fe": float("inf")}, {"Fe": 1e308, "O": 1e308}, {"Xx": 1},
              {}, {"Fe": 0}, {None: 1}, Composition({"Fe": float("inf")}),
              Composition({"Fe": 1e308, "O": 1e308}), Composition()]
    return items


def fuzz_formulas(out: Outcomes, rng) -> None:
    from skmdl.descriptors import CompositionFeaturizer

    kw = {"stats": "magpie", "stoichiometry": True, "element_fractions": True}
    f_raise = CompositionFeaturizer(**kw).fit()
    f_nan = CompositionFeaturizer(errors="nan", **kw).fit()
    items = formula_inputs(rng)
    bad = []
    for item in items:
        def check(item=item):
            kinds = check_featurizer(f_raise, f_nan, item, [repr(item)])
            if "error" in kinds:
                bad.append(item)
            return kinds

        out.run("formulas", item, check)

    def whole_batch():  # exactly the bad rows are NaN, one warning with their rows
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batch = f_nan.transform(items)
        nan_rows = tuple(np.flatnonzero(np.isnan(batch).all(axis=1)))
        assert len(nan_rows) == len(bad)
        (w,) = featurization_warnings(caught)
        assert (w.n_failed, w.n_total, w.rows) == (len(bad), len(items), nan_rows)

    out.run("formulas", "all inputs in one call", whole_batch, count=False)
    fuzz_csp_formulas(out, rng, bad)


def fuzz_csp_formulas(out: Outcomes, rng, formulas) -> None:
    """``ShotgunCSP.predict`` must refuse a bad formula before doing any work.

    The search itself is stubbed out: this checks the input validation only
    (formulas that pymatgen accepts reach the stub and count as accepted).
    """
    from pymatgen.core import Lattice, Structure

    from skmdl.csp import ShotgunCSP

    nacl = Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    csp = ShotgunCSP(generators=("template",), energy_model=lambda structures: [0.0] * len(
        structures), relax=False, prototypes=False, random_state=0).fit([nacl])
    csp._predict_one = lambda comp, energy, relaxer: ([], {})  # no search: validation only
    for item in rng.sample(formulas, min(60, len(formulas))):
        def check(item=item):
            try:
                csp.predict([item])
            except InvalidInputError as exc:
                assert exc.item == item or exc.item is item, f"item {exc.item!r}"
                return ("error",)
            except ValueError as exc:  # ShotgunCSP's own check (a plain ValueError for now)
                assert repr(item)[:40] in str(exc), f"message {str(exc)!r}"
                return ("error",)
            return ("accepted",)

        out.run("csp", item, check)


# ---------------------------------------------------------------- 2. SMILES

BASE_SMILES = ["CCO", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "C1CC1N", "[NH4+].[Cl-]", "O=C=O",
               "C[C@H](N)C(=O)O", "c1ccc2[nH]ccc2c1", "FC(F)(F)Br", "[2H]C([2H])O"]
BASE_POLYMERS = ["*CC(*)c1ccccc1", "*CCO*", "*c1ccc(*)cc1", "*C=C*", "*[Si](C)(C)O*",
                 "*Oc1ccc(cc1)C(=O)*", "*CC(*)C(=O)OC", "*N*", "*CC*", "[*]CC[*]"]
SMILES_ALPHABET = list("()[]=#@+-123456789%*./\\:cnospCNOSPFIBrlH$& ") + [
    "[", "]", "%10", "[Xx]", "[C+99]", "[*]", "**", "c1", "N(", "é", "\x00", "[nH]", "=*"]
POLYMER_MODES = (None, "cap", "cyclize", "oligomer")


def smiles_inputs(rng, n_mutations=250) -> list:
    """(SMILES or Mol, polymer mode) pairs: mutations, then structured bad cases."""
    from rdkit import Chem, rdBase

    items = []
    for _ in range(n_mutations):
        polymer = rng.random() < 0.5
        s = mutate_text(rng, rng.choice(BASE_POLYMERS if polymer else BASE_SMILES),
                        SMILES_ALPHABET, n_max=2)
        items.append((s, rng.choice(POLYMER_MODES) if "*" in s or rng.random() < 0.2 else None))
    structured = [
        "C1CCC", "c1ccc", "C1CC2CC1", "C%99CC", "C(C)(C)(C)(C)C", "[CH5]", "O(C)(C)C",
        "N(=O)(=O)(=O)C", "c1cccc1", "c1ccccc1c", "n1cccc1", "C(", "C)", "(C)", "[C", "C]",
        "[Xx]", "[C+999]", "[C@@@@H](F)(Cl)Br", "C=1CC", "C==C", "C##C", "", " ", "\x00",
        "é", "(" * 5_000, "C" * 60 + "(" * 500, "[" + "C" * 10_000]
    items += [(s, None) for s in structured]
    stars = ["*CC", "*C(*)C*", "CC", "**", "C*C", "*-*", "*=C=*", "*C1CC1", "[*:1]C",
             "*C(*)(*)*", "*c1ccccc1", "*C.C*", "*.*", "*[H]", "[H]*[H]", "*[Og]*"]
    items += [(s, mode) for s in stars for mode in POLYMER_MODES[1:]]
    items += [(x, None) for x in (None, 1.5, float("nan"), b"CCO", ["CCO"], {"CCO": 1})]
    mols = []  # Mols built without sanitization: bad valences and aromaticity reach the featurizer
    with rdBase.BlockLogs():
        for s in ["C(C)(C)(C)(C)C", "c1cccc1", "[CH5]", "n1cccc1", "O(C)(C)(C)C"] + [
                mutate_text(rng, rng.choice(BASE_SMILES), SMILES_ALPHABET) for _ in range(80)]:
            mol = Chem.MolFromSmiles(s, sanitize=False)
            if mol is not None and Chem.MolFromSmiles(s) is None:
                mols.append((Chem.RWMol(mol) if len(mols) % 3 else mol, None))
    return items + mols


def fuzz_smiles(out: Outcomes, rng) -> None:
    from rdkit import Chem

    from skmdl.descriptors import MACCSKeys, MorganFingerprint, RDKitDescriptors

    featurizers = {
        mode: [(cls(polymer=mode, **kw).fit(), cls(polymer=mode, errors="nan", **kw).fit())
               for cls, kw in ((RDKitDescriptors, {}), (MorganFingerprint, {"n_bits": 256}),
                               (MACCSKeys, {}))]
        for mode in POLYMER_MODES}
    for item, mode in smiles_inputs(rng):
        if isinstance(item, Chem.Mol):
            names = ["SMILES "]
        else:
            names = [f"SMILES {item!r}"]

        def check(item=item, mode=mode, names=names):
            kinds = [check_featurizer(fr, fn, item, names) for fr, fn in featurizers[mode]]
            assert len(set(kinds)) == 1, f"featurizers disagree on {item!r}: {kinds}"
            return kinds[0]

        out.run("smiles", (item if isinstance(item, str) else repr(item), mode), check)


# ---------------------------------------------------------------- 3. structures

CIF_NUMBERS = ["0", "-1", "-5.64", "1e9", "1e-9", "nan", "inf", "?", ".", "0.5", "1e308", "-0",
               "2", "100000", "1e-300"]
CIF_TOKENS = ["Xx", "Q", "D", "loop_", "_atom_site_fract_x", "'x, y, z'", "'x,y'", "Na+", "Og",
              "Uuo", "\x00", "é", "#", "data_", ";", "'", "X0+", "0.5"]


def _base_cifs() -> list:
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.cif import CifWriter

    nacl = Structure(Lattice.cubic(5.64), ["Na"] * 4 + ["Cl"] * 4,
                     [[0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5],
                      [.5, 0, 0], [0, .5, 0], [0, 0, .5], [.5, .5, .5]])
    zno = Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.25, 5.2), ["Zn", "O"],
                                    [[1 / 3, 2 / 3, 0], [1 / 3, 2 / 3, 0.38]])
    return [str(CifWriter(nacl)), str(CifWriter(zno, symprec=0.1)), str(CifWriter(zno))]


def mutate_cif(rng, text) -> str:
    lines = text.splitlines()
    op = rng.randrange(8)
    if op == 0:  # truncated
        return text[: rng.randrange(len(text))]
    if op == 1:  # one number replaced
        numbers = list(re.finditer(r"-?\d+\.?\d*", text))
        m = rng.choice(numbers)
        return text[: m.start()] + rng.choice(CIF_NUMBERS) + text[m.end():]
    if op == 2 and lines:  # a line deleted (a cell parameter, a loop header, an atom)
        del lines[rng.randrange(len(lines))]
        return "\n".join(lines)
    if op == 3:  # a token replaced by junk
        tokens = text.split(" ")
        tokens[rng.randrange(len(tokens))] = rng.choice(CIF_TOKENS)
        return " ".join(tokens)
    if op == 4:  # flipped bytes
        b = bytearray(text.encode())
        for _ in range(rng.randint(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return b.decode("utf-8", "replace")
    if op == 5:  # a cell parameter set to a bad value (zero, negative, huge, missing)
        key = rng.choice(["_cell_length_a", "_cell_length_b", "_cell_length_c",
                          "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"])
        return re.sub(key + r"\s+\S+", f"{key}   {rng.choice(CIF_NUMBERS + ['179.999', '1e-3'])}",
                      text)
    if op == 6:  # every atom removed (an empty structure)
        return "\n".join(ln for ln in lines if not re.match(r"\s+[A-Z][a-z]?\s+\S+\s+\d", ln))
    atoms = [i for i, ln in enumerate(lines) if re.match(r"\s+[A-Z][a-z]?\s", ln)]
    if not atoms:
        return text + "\n" + rng.choice(CIF_TOKENS)
    i = rng.choice(atoms)  # an atom duplicated, maybe nudged: overlapping sites
    lines.insert(i, lines[i].replace("0.", rng.choice(["0.", "0.0001", "-0."]), 1))
    return "\n".join(lines)


def structure_inputs(rng, folder: Path, n_mutations=220) -> list:
    """CIF texts, CIF paths and Structure objects, mostly bad."""
    from pymatgen.core import Lattice, Structure

    bases = _base_cifs()
    items = []
    for _ in range(n_mutations):
        text = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            text = mutate_cif(rng, text)
        items.append(text)
    for k in range(20):  # mutated CIFs as files (str and Path), junk and empty files
        path = folder / f"s{k}.cif"
        if k % 5 == 0:
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 400))))
        else:
            path.write_text(mutate_cif(rng, rng.choice(bases)), encoding="utf-8",
                            errors="replace")
        items.append(path if k % 2 else str(path))
    (folder / "adir.cif").mkdir()
    (folder / "x.json").write_text("{not json")
    items += [str(folder / "missing.cif"), folder / "adir.cif", str(folder / "x.json"), "",
              "Fe2O3", "data_", "data_x\n", "\n" * 5, "\x00\n\x01", "nope.cif", str(folder)]
    lat = Lattice.cubic(4.0)
    structures = [
        Structure(lat, ["Na", "Cl", "Cl"], [[0, 0, 0], [.5, .5, .5], [.5, .5, .5]]),
        Structure(lat, ["Na", "Cl"], [[0, 0, 0], [.5, .5, .5 + 1e-4]]),
        Structure(lat, ["Na", "Cl"], [[0, 0, 0], [np.nan, .5, .5]]),
        Structure(lat, ["Na", "Cl"], [[0, 0, 0], [np.inf, .5, .5]]),
        Structure(Lattice.cubic(0.05), ["Na"], [[0, 0, 0]]),
        Structure(Lattice.cubic(1e4), ["Na", "Cl"], [[0, 0, 0], [.9, .9, .9]]),
        Structure(Lattice.cubic(1e9), ["Na", "Cl"], [[0, 0, 0], [.5, .5, .5]]),
        Structure(Lattice.from_parameters(4, 4, 4, 1e-3, 90, 90), ["Na"], [[0, 0, 0]]),
        Structure(Lattice.from_parameters(4, 4, 4, 179.99, 90, 90), ["Na"], [[0, 0, 0]]),
        Structure(Lattice.from_parameters(1e7, 3.25, 5.2, 90, 90, 120), ["Zn", "O"],
                  [[0, 0, 0], [0.3, 0.5, 0.5]]),
        Structure(lat, ["Zn"] * 3000, np.random.default_rng(0).random((3000, 3))),
        Structure(lat, [{"Na": 0.5, "Cl": 0.5}], [[0, 0, 0]]),
        Structure(lat, ["Og", "Na"], [[0, 0, 0], [.5, .5, .5]]),
        Structure(lat, [], []),
    ]
    return items + structures + [None, 3, b"data_x\n", {"a": 1}, ["Na"]]


def fuzz_structures(out: Outcomes, rng, folder: Path) -> None:
    from skmdl.descriptors import OrbitalFieldMatrixFeaturizer, RadialDistributionFeaturizer
    from skmdl.descriptors._structures import describe

    featurizers = [
        (cls(errors="raise", **kw).fit(), cls(errors="nan", **kw).fit())
        for cls, kw in ((RadialDistributionFeaturizer,
                         {"elements": ["Na", "Cl", "Zn", "O"], "cutoff": 6.0, "n_bins": 30}),
                        (OrbitalFieldMatrixFeaturizer, {"neighbors": "cutoff", "cutoff": 5.0}))]
    for item in structure_inputs(rng, folder):
        def check(item=item):
            names = [describe(item)]
            if isinstance(item, (str, os.PathLike)) and "\n" not in str(item):
                names.append(Path(item).name)  # a path: the message names the file
            kinds = [check_featurizer(fr, fn, item, names) for fr, fn in featurizers]
            return tuple(sorted({k for ks in kinds for k in ks}))

        out.run("structures", item if isinstance(item, str) else repr(item), check)


# ---------------------------------------------------------------- 4. model library

MODEL_IDS = ("toy_a-000", "toy_b-000")
WEIRD_JSON = [None, -1, 0, 10**12, "x", [], {}, [10**9], [0], [-3], 1.5, True, "relu",
              "../../etc", "/etc/passwd", 2, [8, 4], "Fe2O3"]
CARD_KEYS = [("architecture", "n_in"), ("architecture", "hidden"), ("architecture", "activation"),
             ("architecture", "n_out"), ("architecture", "dropout"), ("architecture",),
             ("descriptor", "class"), ("descriptor", "n_features"), ("descriptor", "params"),
             ("descriptor", "params", "stats"), ("descriptor", "params", "elements"),
             ("descriptor", "element_table_hash"), ("descriptor",), ("format",), ("id",)]
INDEX_KEYS = [("models", 0, "path"), ("models", 0, "sha256"), ("models", 0, "id"),
              ("models", 0, "sha256", "weights"), ("models", 1, "sha256", "card"), ("format",),
              ("models",), ("models", 1), ("models", 0, "r2")]


def build_library(root: Path) -> Path:
    """Two untrained models (random weights: only the files matter here) and their index."""
    import torch

    from skmdl.descriptors import CompositionFeaturizer
    from skmdl.library.artifact import MLP, descriptor_spec, write_artifact
    from skmdl.library.library import index_entry, write_index

    spec = descriptor_spec(CompositionFeaturizer(stats=["mean", "max"]))
    torch.manual_seed(0)
    entries = []
    for model_id, hidden, act in zip(MODEL_IDS, ([8, 4], [6]), ("silu", "tanh")):
        arch = {"n_in": spec["n_features"], "hidden": hidden, "activation": act,
                "dropout": 0.0, "n_out": 1}
        card = {"id": model_id, "property": model_id, "unit": "1", "kind": "inorganic",
                "descriptor": dict(spec, name="composition:magpie:mean-max"),
                "architecture": arch, "metrics": {"mae": 0.1, "r2": 0.9, "n": 10},
                "training": {"dataset": model_id[:5], "n_train": 10}}
        hashes = write_artifact(root / "models" / model_id, MLP(arch["n_in"], hidden, act), card)
        entries.append(index_entry(root, f"models/{model_id}", hashes))
    write_index(root, entries, "fuzz")
    return root


def _rehash(root: Path) -> None:
    """Record the current checksums in the index (a consistently tampered library)."""
    from skmdl.library.artifact import sha256_file

    with contextlib.suppress(Exception):  # the index itself may be broken by now
        index = json.loads((root / "index.json").read_text())
        for e in index["models"]:
            for key, name in (("weights", "weights.safetensors"), ("card", "card.json")):
                if (root / e["path"] / name).is_file():
                    e["sha256"][key] = sha256_file(root / e["path"] / name)
        (root / "index.json").write_text(json.dumps(index))


def _edit_json(rng, path: Path, keys) -> str:
    data = json.loads(path.read_text())
    key = rng.choice(keys)
    node = data
    for k in key[:-1]:
        node = node[k]
    if rng.random() < 0.2 and isinstance(node, dict):
        node.pop(key[-1], None)
        what = "deleted"
    else:
        node[key[-1]] = what = rng.choice(WEIRD_JSON)
    path.write_text(json.dumps(data))
    return f"{path.name} {key} = {what!r}"


def corrupt_library(rng, root: Path) -> str:
    """Apply one random corruption to the library in ``root``; returns what was done."""
    import torch
    from safetensors.torch import save_file

    from skmdl.library.artifact import MLP

    model_id = rng.choice(MODEL_IDS)
    folder = root / "models" / model_id
    weights, card, index = folder / "weights.safetensors", folder / "card.json", root / "index.json"
    target = rng.choice([weights, card, index])
    op = rng.randrange(13)
    if op == 0:
        b = bytearray(target.read_bytes())
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(b))
        return f"bits flipped in {target.name}"
    if op == 1:
        b = target.read_bytes()
        target.write_bytes(b[: rng.randrange(len(b))])
        return f"{target.name} truncated"
    if op == 2:
        weights.write_bytes(pickle.dumps({"hidden.0.weight": np.zeros((4, 44))}))
        if rng.random() < 0.5:
            _rehash(root)
        return "a pickle in place of the safetensors"
    if op == 3:
        other = root / "models" / MODEL_IDS[1 - MODEL_IDS.index(model_id)] / weights.name
        a, b = weights.read_bytes(), other.read_bytes()
        weights.write_bytes(b)
        other.write_bytes(a)
        if rng.random() < 0.5:
            _rehash(root)
        return "weights files swapped"
    if op == 4:
        target.unlink()
        return f"{target.name} deleted"
    if op == 5:
        target.unlink()
        target.mkdir()
        return f"{target.name} is a folder"
    if op in (6, 7):
        what = _edit_json(rng, card, CARD_KEYS)
        if op == 7:
            _rehash(root)
        return what + (" (rehashed)" if op == 7 else "")
    if op == 8:
        return _edit_json(rng, index, INDEX_KEYS)
    if op == 9:  # bits flipped, checksums updated: the weights change but load
        b = bytearray(weights.read_bytes())
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        weights.write_bytes(bytes(b))
        _rehash(root)
        return "weights bits flipped (rehashed)"
    if op == 10:  # valid safetensors of the wrong shapes or dtype
        module = MLP(rng.choice([3, 44]), rng.choice([[8, 4], [6], [5]]), "relu")
        dtype = rng.choice([torch.float32, torch.float16, torch.float64])
        save_file({k: v.to(dtype).contiguous() for k, v in module.state_dict().items()},
                  str(weights))
        if rng.random() < 0.7:
            _rehash(root)
        return f"weights of other shapes ({dtype})"
    if op == 11:
        index.write_text(json.dumps({"format": 1, "models": json.loads(index.read_text())["models"]
                                     + [json.loads(index.read_text())["models"][0]]}))
        return "index entry duplicated"
    target.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 64))))
    return f"{target.name} replaced by junk"


def _corrupt(rng, root) -> str:
    try:
        return corrupt_library(rng, root)
    except (OSError, ValueError, LookupError, TypeError):  # an earlier corruption removed it
        return "(corruption not applicable)"


def check_library(root: Path) -> tuple:
    """Open, verify, search, read, load and run every model of a (corrupted) library."""
    from skmdl.library import ArtifactIntegrityError, ModelLibrary

    files = ("index.json", "card.json", "weights.safetensors")

    def names_a_file(msg):
        assert str(root) in msg and any(f in msg for f in files), f"message {msg!r}"

    try:
        lib = ModelLibrary(root)
    except (ArtifactIntegrityError, FileNotFoundError) as exc:
        names_a_file(str(exc))
        return ("error",)
    report = lib.verify()
    for msg in report.loc[~report.ok, "error"]:
        names_a_file(msg)
    lib.search(kind="inorganic", min_r2=0.5, text="toy")
    failed = set(report.loc[~report.ok, "id"])
    for model_id in lib.ids:
        try:
            lib.card(model_id)
            lib.load(model_id)
            p = lib.predict(model_id, ["Fe2O3", "NaCl"])
            h = lib.hidden(model_id, ["Fe2O3"])
            assert p.shape == (2,) and h.shape[0] == 1
        except ArtifactIntegrityError as exc:
            names_a_file(str(exc))
            failed.add(model_id)
        else:
            assert model_id not in set(report.loc[~report.ok, "id"]), \
                f"{model_id} failed verify() but loads"
    return ("error",) if failed else ("accepted",)


def fuzz_library(out: Outcomes, rng, base: Path, folder: Path, n=180) -> None:
    for k in range(n):
        root = folder / f"lib{k}"
        shutil.copytree(base, root)
        what = "; ".join(_corrupt(rng, root) for _ in range(rng.randint(1, 2)))
        out.run("library", what, check_library, root)
        shutil.rmtree(root)


# ---------------------------------------------------------------- 5. command line

def _csv_inputs(rng, column="formula", valid=("Fe2O3", "NaCl", "SiO2", "LiFePO4")) -> list:
    """(label, bytes) of CSV files: junk, encodings, missing columns, bad cells."""
    rows = [rng.choice(valid) for _ in range(12)]
    good = pd.DataFrame({column: rows, "y": [str(i) for i in range(12)]}).to_csv(index=False)
    cases = [("empty file", b""), ("header only", f"{column},y\n".encode()),
             ("random bytes", bytes(rng.randrange(256) for _ in range(200))),
             ("NUL bytes", good.encode().replace(b",", b"\x00", 3)),
             ("latin-1", good.replace(rows[0], "Fé2O3").encode("latin-1")),
             ("UTF-16", good.encode("utf-16")),
             ("missing column", good.replace(column, "comp", 1).encode()),
             ("unbalanced quotes", good.replace(rows[1], '"' + rows[1], 1).encode()),
             ("ragged rows", (good + "a,b,c,d,e\n").encode()),
             ("duplicate header", good.replace("y", column, 1).encode())]
    for _ in range(6):  # bad cells in random rows
        bad = list(rows)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(bad))
            bad[i] = mutate_text(rng, bad[i], FORMULA_ALPHABET)
        text = pd.DataFrame({column: bad, "y": [str(i) for i in range(12)]}).to_csv(index=False)
        cases.append(("mutated cells", text.encode()))
    for _ in range(4):  # bit flips in a good file
        b = bytearray(good.encode())
        for _ in range(rng.randint(1, 5)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        cases.append(("bits flipped", bytes(b)))
    return cases


def _has_nan_rows(output) -> bool:
    """Whether a written table (featurize, predict) has a row whose numbers are all NaN."""
    if output is None or not Path(output).is_file():
        return False
    path = Path(output)
    df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    numbers = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    return bool(numbers.shape[1] and numbers.isna().all(axis=1).any())


class CLI:
    """Runs ``skmdl.cli.main`` in-process and classifies the result."""

    def __init__(self, capsys, folder: Path):
        self.capsys, self.folder = capsys, folder

    def __call__(self, argv, output, command: str, may_succeed=True) -> tuple:
        """Exit code 2 with one error line and no new file, or 0 with the output written.

        ``output``: the file or folder the command writes (``None``: it writes none).
        """
        from skmdl.cli import main

        folder = self.folder if output is None else Path(output).parent
        before = set(folder.iterdir()) if folder.is_dir() else set()
        self.capsys.readouterr()
        code = main([str(a) for a in argv])
        err = self.capsys.readouterr().err
        after = set(folder.iterdir()) if folder.is_dir() else set()
        if code == 0:
            assert may_succeed, f"exit code 0; stderr {err!r}"
            nan = _has_nan_rows(output)
            if output is not None:
                assert Path(output).exists(), "exit code 0 without an output"
                shutil.rmtree(output) if Path(output).is_dir() else Path(output).unlink()
            return ("nan_row",) if nan else ("accepted",)
        assert code == 2, f"exit code {code}; stderr {err!r}"
        assert err.startswith(f"skmdl {command}: error: ") and err.count("\n") == 1, \
            f"stderr {err!r}"
        assert "Traceback" not in err
        assert after == before, f"files left behind: {sorted(p.name for p in after - before)}"
        assert output is None or not Path(output).exists(), "an output was written"
        return ("error",)


def fuzz_cli(out: Outcomes, rng, capsys, folder: Path, library: Path) -> None:
    cli = CLI(capsys, folder)
    n = iter(range(10**6))

    def table(label, data, suffix=".csv"):
        path = folder / f"in{next(n)}{suffix}"
        path.write_bytes(data)
        return path

    # featurize: formulas (both error modes), SMILES and CIF text through the other featurizers
    for label, data in _csv_inputs(rng) * 2:
        src, dst = table(label, data), folder / f"out{next(n)}.csv"
        extra = rng.choice([[], ["--errors", "nan"], ["--stats", "xenonpy"]])
        out.run("cli", f"featurize {label} {extra}", cli, ["featurize", src, dst, *extra], dst,
                "featurize")
    for label, data in _csv_inputs(rng, "smiles", ("CCO", "c1ccccc1", "CC(=O)O")):
        src, dst = table(label, data), folder / f"out{next(n)}.parquet"
        out.run("cli", f"featurize morgan {label}", cli,
                ["featurize", src, dst, "--featurizer", "morgan", "--n-bits", "64"], dst,
                "featurize")
    cif = _base_cifs()[0]
    for label, data in _csv_inputs(rng, "cif", (cif, mutate_cif(rng, cif)))[:12]:
        src, dst = table(label, data), folder / f"out{next(n)}.csv"
        out.run("cli", f"featurize rdf {label}", cli,
                ["featurize", src, dst, "--featurizer", "rdf", "--cutoff", "4", "--n-bins", "8"],
                dst, "featurize")
    good = table("good", pd.DataFrame({"formula": ["Fe2O3", "NaCl"] * 6}).to_csv(
        index=False).encode())
    for label, argv, dst in [
            ("input is a folder", ["featurize", folder, folder / "o1.csv"], folder / "o1.csv"),
            ("no input", ["featurize", folder / "none.csv", folder / "o2.csv"], folder / "o2.csv"),
            ("output is a folder", ["featurize", good, folder], folder / "x" / "y"),
            ("output folder missing", ["featurize", good, folder / "no" / "o.csv"],
             folder / "no" / "o.csv"),
            ("output extension", ["featurize", good, folder / "o.xlsx"], folder / "o.xlsx")]:
        out.run("cli", label, cli, argv, dst, "featurize", may_succeed=False)

    # fit: tables that cannot train a model (fails before or while featurizing)
    sources = ["--sources", "critexam_ed-000", "mp_mu_b-000", "--n-sources", "1", "--cv", "0",
               "--quiet"]
    fits = [(label, data) for label, data in _csv_inputs(rng)
            if label not in ("ragged rows", "bits flipped", "duplicate header")]
    fits += [("bad target", pd.DataFrame({"formula": ["Fe2O3"] * 12, "y": ["1"] * 11 + [
        rng.choice(["abc", "", "nan", "inf", "1e999", "--"])]}).to_csv(index=False).encode())
        for _ in range(6)]
    fits += [("too few rows", b"formula,y\nFe2O3,1\nNaCl,2\n")]
    for label, data in fits:
        src, model = table(label, data), folder / f"model{next(n)}"
        out.run("cli", f"fit {label}", cli,
                ["fit", src, "--target", "y", "--out", model, *sources], model, "fit",
                may_succeed=label not in ("bad target", "too few rows"), limit=FIT_TIME_LIMIT)

    # predict: bad tables for a fitted model, and corrupted copies of that model
    train = table("train", pd.DataFrame({"formula": ["Fe2O3", "NaCl", "SiO2", "LiF"] * 3,
                                         "y": [str(i % 4) for i in range(12)]}).to_csv(
        index=False).encode())
    model = folder / "model"
    from skmdl.cli import main

    assert main(["fit", str(train), "--target", "y", "--out", str(model), *sources]) == 0
    for label, data in _csv_inputs(rng):
        src, dst = table(label, data), folder / f"pred{next(n)}.csv"
        out.run("cli", f"predict {label}", cli, ["predict", model, src, "--out", dst], dst,
                "predict")
    for k in range(25):
        copy = folder / f"model_copy{k}"
        shutil.copytree(model, copy)
        files = sorted(p for p in copy.rglob("*") if p.is_file())
        victim = rng.choice(files)
        data = bytearray(victim.read_bytes())
        if rng.random() < 0.5 and data:
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            what = "bits flipped"
        else:
            data = data[: rng.randrange(len(data) + 1)]
            what = "truncated"
        victim.write_bytes(bytes(data))
        dst = folder / f"pred{next(n)}.csv"
        out.run("cli", f"predict with {victim.relative_to(copy)} {what}", cli,
                ["predict", copy, train, "--out", dst], dst, "predict")

    # library info / verify on corrupted libraries
    for k in range(20):
        root = folder / f"clilib{k}"
        shutil.copytree(library, root)
        what = _corrupt(rng, root)

        def check(root=root):
            kinds = cli(["library", "info", "--library", root, rng.choice(MODEL_IDS)], None,
                        "library info")
            capsys.readouterr()
            from skmdl.cli import main

            code = main(["library", "verify", "--library", str(root)])
            std = capsys.readouterr()
            if code == 1:
                assert all(str(root) in ln for ln in std.out.splitlines() if ln.startswith("FAIL"))
            else:
                assert code in (0, 2), code
            return kinds

        out.run("cli", f"library info/verify: {what}", check)


# ---------------------------------------------------------------- the test

def test_fuzz_public_entry_points(tmp_path, capsys, request):
    """Every generated bad input ends in a clear error or a NaN row, within the time limit."""
    from skmdl.descriptors import CompositionFeaturizer, MorganFingerprint

    rng = random.Random(SEED)
    with capsys.disabled():  # the terminal's stderr, for the traceback of a hang
        watchdog = os.fdopen(os.dup(sys.stderr.fileno()), "w")
    request.addfinalizer(watchdog.close)
    out = Outcomes(watchdog)
    # imports and first calls (RDKit, pymatgen's CIF parser, torch) outside the time limit
    CompositionFeaturizer().fit().transform(["NaCl"])
    MorganFingerprint(n_bits=8).fit().transform(["CCO"])
    library = build_library(tmp_path / "library")
    for name in ("structures", "library_copies", "cli"):
        (tmp_path / name).mkdir()

    with warnings.catch_warnings():  # building bad inputs makes pymatgen and spglib warn
        warnings.simplefilter("ignore")
        fuzz_formulas(out, rng)
        fuzz_smiles(out, rng)
        fuzz_structures(out, rng, tmp_path / "structures")
        fuzz_library(out, rng, library, tmp_path / "library_copies")
        fuzz_cli(out, rng, capsys, tmp_path / "cli", library)

    summary = out.table()
    failures = [f"[{fam}] {f}" for fam, fs in out.failures.items() for f in fs]
    request.node.add_report_section("call", "fuzz summary", summary)
    with capsys.disabled():
        print("\n" + summary)
    assert not failures, f"{len(failures)} unclear outcomes:\n" + "\n".join(failures[:40]) \
        + "\n" + summary
    total = sum(out.counts.values(), Counter())
    assert total["bad inputs"] >= MIN_BAD_INPUTS, summary
    for family in ("formulas", "csp", "smiles", "structures", "library", "cli"):
        assert out.counts[family]["bad inputs"] >= 40, summary


# ---------------------------------------------------------------- bugs the fuzzing found

@pytest.mark.parametrize("item, reason", [
    ("Fe" + "9" * 400, "amount of Fe is inf (not a finite number)"),
    ("CuSO4·" + "9" * 400 + "H2O", "amount of O is inf"),
    ("Fe" + "9" * 308 + "O" + "9" * 308, "the amounts add up to more than the largest float"),
    ({"Fe": float("nan"), "O": 1}, "amount of Fe is nan"),
    ({"Fe": None}, "amount of Fe is not a number: None"),
    ({"Fe": [1]}, "amount of Fe is not a number: [1]"),
], ids=["overflow", "hydrate overflow", "sum overflow", "NaN", "None", "list"])
def test_formula_amounts_must_be_finite_numbers(item, reason):
    """Overflowing and NaN amounts gave rows of inf and NaN without an error; a dict amount
    that is not a number raised TypeError (or a ValueError not naming the formula, leaking
    out of ``errors="nan"`` too)."""
    from skmdl.descriptors import CompositionFeaturizer

    with pytest.raises(FormulaError) as info:
        CompositionFeaturizer(stats="all").fit().transform(["NaCl", item])
    assert (info.value.row, info.value.item) == (1, item)
    assert reason in info.value.reason
    with pytest.warns(FeaturizationWarning) as record:
        X = CompositionFeaturizer(stats="all", errors="nan").fit().transform(["NaCl", item])
    assert [(w.message.n_failed, w.message.rows) for w in record] == [(1, (1,))]
    assert np.isfinite(X[0]).all() and np.isnan(X[1]).all()


def test_composition_with_an_infinite_amount_is_refused():
    from pymatgen.core import Composition

    from skmdl.descriptors import CompositionFeaturizer

    with pytest.raises(ValueError, match="amount of Fe is inf"):
        CompositionFeaturizer().fit().transform([Composition({"Fe": float("inf")})])


def test_unsanitized_mol_is_a_clear_error():
    """A Mol built with ``sanitize=False`` made the fingerprints raise RDKit's RuntimeError
    (and print a C++ stack trace) and gave RDKitDescriptors rows that changed from call to
    call; such Mols are now sanitized (a copy) or refused."""
    from rdkit import Chem

    from skmdl.descriptors import MACCSKeys, MorganFingerprint, RDKitDescriptors

    featurizers = [MorganFingerprint(n_bits=64), MACCSKeys(),
                   RDKitDescriptors(descriptors=["MolWt", "NumAromaticRings", "TPSA"])]
    for f in featurizers:
        f.fit()
        for smiles, reason in (("c1cccc1", "Can't kekulize"), ("C(C)(C)(C)(C)C", "valence")):
            mol = Chem.MolFromSmiles(smiles, sanitize=False)
            with pytest.raises(MoleculeError) as info:
                f.transform([mol])
            assert (info.value.row, info.value.item) == (0, mol)
            assert info.value.label == f"SMILES {Chem.MolToSmiles(mol)!r}"
            assert re.match(rf"RDKit cannot sanitize this molecule \(.*{reason}",
                            info.value.reason), info.value.reason
        raw = Chem.MolFromSmiles("c1ccccc1O", sanitize=False)
        np.testing.assert_array_equal(f.transform([raw]), f.transform(["Oc1ccccc1"]))
        np.testing.assert_array_equal(f.transform([raw]), f.transform([raw]))


def test_rwmol_is_a_molecule():
    """An editable ``RWMol`` (a ``Mol`` subclass) was refused as "not a SMILES or Mol"."""
    from rdkit import Chem

    from skmdl.descriptors import MorganFingerprint

    f = MorganFingerprint(n_bits=64).fit()
    np.testing.assert_array_equal(f.transform([Chem.RWMol(Chem.MolFromSmiles("CCO"))]),
                                  f.transform(["CCO"]))
    bad = Chem.RWMol(Chem.MolFromSmiles("C"))
    for _ in range(5):  # a pentavalent carbon
        bad.AddBond(0, bad.AddAtom(Chem.Atom(6)), Chem.BondType.SINGLE)
    with pytest.raises(MoleculeError) as info:
        f.transform([bad])
    assert info.value.row == 0 and info.value.label == "SMILES 'CC(C)(C)(C)C'"
    assert info.value.reason.startswith("RDKit cannot sanitize")


def _structures():
    from pymatgen.core import Lattice, Structure

    lat = Lattice.cubic(4.0)
    return {
        "overlapping sites": (Structure(lat, ["Na", "Cl", "Cl"],
                                        [[0, 0, 0], [.5, .5, .5], [.5, .5, .5]]),
                              "sites 1 and 2 are 0 Å apart (overlapping atoms"),
        "NaN coordinate": (Structure(lat, ["Na", "Cl"], [[0, 0, 0], [np.nan, .5, .5]]),
                           "the lattice or a coordinate is not a finite number"),
        "tiny cell": (Structure(Lattice.cubic(0.05), ["Na"], [[0, 0, 0]]),
                      "every site overlaps its periodic image"),
        "flat cell": (Structure(Lattice.from_parameters(4, 4, 4, 1e-3, 90, 90), ["Na"],
                                [[0, 0, 0]]), "the cell is too thin"),
        "huge cell": (Structure(Lattice.cubic(1e4), ["Na", "Cl"], [[0, 0, 0], [.9, .9, .9]]),
                      "too far apart for a neighbour search"),
        "dense cell": (Structure(lat, ["Zn"] * 3000, np.random.default_rng(0).random((3000, 3))),
                       "neighbour pairs within"),
    }


@pytest.mark.parametrize("case", list(_structures()))
def test_degenerate_structures_are_refused_at_once(case):
    """The flat cell hung for ever in pymatgen's neighbour search (~1e11 periodic images),
    the huge one asked for 76 GB (MemoryError), overlapping sites gave an orbital-field
    matrix of inf, and a NaN coordinate a row of numbers."""
    from skmdl.descriptors import OrbitalFieldMatrixFeaturizer, RadialDistributionFeaturizer

    structure, reason = _structures()[case]
    for f in (RadialDistributionFeaturizer(elements=["Na", "Cl"], cutoff=6.0, n_bins=10),
              OrbitalFieldMatrixFeaturizer(neighbors="cutoff")):
        start = time.perf_counter()
        with pytest.raises(StructureError) as info:
            f.fit().transform([structure])
        assert info.value.row == 0 and reason in info.value.reason
        with pytest.warns(FeaturizationWarning) as record:
            assert np.isnan(f.set_params(errors="nan").transform([structure])).all()
        assert [w.message.rows for w in record] == [(0,)]
        assert time.perf_counter() - start < 2.0


def test_error_names_the_file_of_a_long_path(tmp_path):
    """Long paths were cut at the end, dropping the file name from the message."""
    from skmdl.descriptors import RadialDistributionFeaturizer

    folder = tmp_path / ("d" * 120)
    folder.mkdir()
    (folder / "broken.cif").write_text("data_x\nloop_\n_atom_site_label\nfoo bar\n")
    f = RadialDistributionFeaturizer(elements=["Na"]).fit()
    with pytest.raises(StructureError) as info:
        f.transform([str(folder / "broken.cif")])
    assert info.value.row == 0 and re.search(r"\.\.\.d+/broken\.cif'$", info.value.label)


@pytest.fixture()
def library(tmp_path):
    return build_library(tmp_path / "lib")


@pytest.mark.parametrize("edit, reason", [
    (lambda models: models[0].update(path="../../outside"), "bad artifact path '../../outside'"),
    (lambda models: models[0].update(path="/etc"), "bad artifact path '/etc'"),
    (lambda models: models[0].pop("sha256"), "no sha256 of the weights and the card"),
    (lambda models: models[1].update(id=["toy"]), "model entry 1 has no id"),
    (lambda models: models.append(dict(models[0])), "id 'toy_a-000' appears twice"),
    (lambda models: models.__setitem__(1, "toy_b-000"), "model entry 1 is not an object"),
], ids=["parent path", "absolute path", "no sha256", "id a list", "duplicate", "a string"])
def test_malformed_index_entries_are_refused(library, edit, reason):
    """These raised KeyError / TypeError when the library was opened or searched; a path
    with '..' read (and, for a remote library, downloaded) files outside the library."""
    from skmdl.library import ArtifactIntegrityError, ModelLibrary

    index = json.loads((library / "index.json").read_text())
    edit(index["models"])
    (library / "index.json").write_text(json.dumps(index))
    with pytest.raises(ArtifactIntegrityError, match=re.escape(reason)) as info:
        ModelLibrary(library)
    assert str(library / "index.json") in str(info.value)


def test_search_skips_an_r2_that_is_not_a_number(library):
    from skmdl.library import ModelLibrary

    index = json.loads((library / "index.json").read_text())
    index["models"][0]["r2"] = "x"
    (library / "index.json").write_text(json.dumps(index))
    assert ModelLibrary(library).search(min_r2=0.5)["id"].tolist() == ["toy_b-000"]


def _tamper_card(library, model_id, edit, weights=None):
    """Edit a card (and maybe its weights) and record the new checksums, as a consistent
    tamperer (or a buggy builder) would."""
    from safetensors.torch import save_file

    folder = library / "models" / model_id
    card = json.loads((folder / "card.json").read_text())
    edit(card)
    (folder / "card.json").write_text(json.dumps(card))
    if weights is not None:
        save_file({k: v.contiguous() for k, v in weights.state_dict().items()},
                  str(folder / "weights.safetensors"))
    _rehash(library)
    return folder


@pytest.mark.parametrize("keys, value, file, reason", [
    (("architecture", "hidden"), [10**12, 4], "weights.safetensors",
     "weights do not fit the card's architecture"),
    (("architecture", "hidden"), [-3], "card.json", "bad architecture"),
    (("descriptor", "params", "stats"), "x", "card.json", "bad descriptor spec"),
    (("descriptor", "params"), 7, "card.json", "bad descriptor spec"),
    (("descriptor", "class"), "Pickle", "card.json", "unknown featurizer class 'Pickle'"),
    (("descriptor", "n_features"), 3, "card.json", "model expects 3"),
    (("architecture", "n_in"), 3, "card.json",
     "the descriptor gives 44 features, the network takes 3"),
], ids=["huge width", "negative width", "bad stats", "params not a dict", "unknown class",
        "n_features", "n_in"])
def test_load_names_the_bad_file(library, keys, value, file, reason):
    """A card asking for 10^12-wide layers allocated them before the weights were checked
    (MemoryError, or a long stall where memory is overcommitted); bad descriptor specs
    raised InvalidParameterError or TypeError, or an ArtifactIntegrityError that did not
    name the card; a network whose input width is not the descriptor's loaded, then
    failed in predict with torch's RuntimeError."""
    from skmdl.library import ArtifactIntegrityError, ModelLibrary
    from skmdl.library.artifact import MLP

    def edit(card):
        node = card
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    # weights that fit the edited card's input width, for the last case
    weights = MLP(value, [8, 4], "silu") if keys == ("architecture", "n_in") else None
    folder = _tamper_card(library, "toy_a-000", edit, weights)
    lib = ModelLibrary(library)
    with pytest.raises(ArtifactIntegrityError, match=re.escape(reason)) as info:
        lib.predict("toy_a-000", ["Fe2O3"])
    assert str(folder / file) in str(info.value)
    assert lib.predict("toy_b-000", ["Fe2O3"]).shape == (1,)


def test_card_refuses_a_missing_or_unreadable_card(library):
    """``card()`` raised FileNotFoundError / IsADirectoryError / JSONDecodeError."""
    from skmdl.library import ArtifactIntegrityError, ModelLibrary

    card = library / "models" / "toy_a-000" / "card.json"
    card.write_text(card.read_text()[:100])
    _rehash(library)
    lib = ModelLibrary(library)
    with pytest.raises(ArtifactIntegrityError, match="unreadable model card"):
        lib.card("toy_a-000")
    card.unlink()
    card.mkdir()
    with pytest.raises(ArtifactIntegrityError, match=re.escape(f"{card}: missing")):
        lib.card("toy_a-000")
