"""A fast chemical-formula parser.

pymatgen's :class:`~pymatgen.core.Composition` is exact but costs ~8 µs per
formula; featurizing 10^5 formulas is then dominated by parsing.  This parser
handles the grammar found in materials datasets -- element symbols with integer
or decimal amounts, nested ``()``/``[]``/``{}`` groups with multipliers, and
hydrates written with a middle dot (``CuSO4·5H2O``) -- and it is
cross-checked against pymatgen on every formula of the shared composition
data (``tests/descriptors/test_formula.py``).

Deuterium and tritium (``D``, ``T``) count as hydrogen, as in pymatgen.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..exceptions import FormulaError

# Periodic table in atomic-number order (Z = index + 1).
ELEMENTS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn "
    "Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce "
    "Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn "
    "Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl "
    "Mc Lv Ts Og"
).split()
ATOMIC_NUMBER = {el: z for z, el in enumerate(ELEMENTS, start=1)}
_ISOTOPES = {"D": "H", "T": "H"}

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
# A formula without groups: element symbols, each with an optional amount.
_SIMPLE = re.compile(rf"(?:[A-Z][a-z]?(?:{_NUM})?)+")
_ELEM_AMT = re.compile(rf"([A-Z][a-z]?)({_NUM})?")
# Tokens of the general grammar: element+amount | opening bracket | closing bracket+amount.
_TOKEN = re.compile(rf"([A-Z][a-z]?)({_NUM})?|([(\[{{])|([)\]}}])({_NUM})?")
_HYDRATE_SEP = re.compile(r"[·•∙⋅]")
_LEADING_NUM = re.compile(rf"^({_NUM})")
_CLOSING = {")": "(", "]": "[", "}": "{"}


def _add(counts: dict, el: str, amount: float) -> None:
    el = _ISOTOPES.get(el, el)
    if el not in ATOMIC_NUMBER:
        raise FormulaError(f"unknown element {el!r}")
    counts[el] = counts.get(el, 0.0) + amount


_KNOWN = frozenset(ATOMIC_NUMBER)


def _check_finite(counts: dict) -> None:
    """Reject NaN amounts and amounts (or totals) that overflow to infinity.

    A sum of finite amounts is finite unless it overflows, so one sum checks all.
    """
    if not math.isfinite(sum(counts.values())):
        bad = [el for el, a in counts.items() if not math.isfinite(a)]
        if bad:
            raise FormulaError(f"amount of {bad[0]} is {counts[bad[0]]} (not a finite number)")
        raise FormulaError("the amounts add up to more than the largest float")


def _canonical(counts: dict) -> dict:
    """Map isotopes to their element and reject unknown symbols."""
    out: dict = {}
    for el, a in counts.items():
        _add(out, el, a)
    return out


def _parse_groups(s: str) -> dict:
    """General grammar: nested brackets with multipliers."""
    stack = [{}]
    openers = []
    pos = 0
    for m in _TOKEN.finditer(s):
        if m.start() != pos:
            raise FormulaError(f"unexpected character {s[pos]!r} at position {pos}")
        pos = m.end()
        el, amt, opening, closing, mult = m.groups()
        if el is not None:
            _add(stack[-1], el, float(amt) if amt else 1.0)
        elif opening is not None:
            stack.append({})
            openers.append(opening)
        else:
            if not openers or openers[-1] != _CLOSING[closing]:
                raise FormulaError(f"unbalanced {closing!r} at position {m.start()}")
            openers.pop()
            group = stack.pop()
            if not group:
                raise FormulaError(f"empty group before position {m.start()}")
            factor = float(mult) if mult else 1.0
            top = stack[-1]
            for e, a in group.items():
                top[e] = top.get(e, 0.0) + a * factor
    if pos != len(s):
        raise FormulaError(f"unexpected character {s[pos]!r} at position {pos}")
    if openers:
        raise FormulaError(f"unclosed {openers[-1]!r}")
    return stack[0]


def parse_formula(formula: str) -> dict:
    """Parse a chemical formula into ``{element: amount}``.

    Parameters
    ----------
    formula : str
        For example ``"Fe2O3"``, ``"Ag(AuS)2"``, ``"Li0.5(Co0.2Ni0.8)O2"``,
        ``"CuSO4·5H2O"``. Whitespace is ignored.

    Returns
    -------
    dict
        Element symbol -> amount (as written, not normalized). Elements with a
        zero amount are dropped.

    Raises
    ------
    FormulaError
        A subclass of :class:`~skmdl.exceptions.InvalidInputError` (a
        :class:`ValueError`), for unparsable text, unknown
        elements, or a formula with no atoms.

    Examples
    --------
    >>> parse_formula("Ag(AuS)2")
    {'Ag': 1.0, 'Au': 2.0, 'S': 2.0}
    >>> parse_formula("CuSO4·5H2O")
    {'Cu': 1.0, 'S': 1.0, 'O': 9.0, 'H': 10.0}
    """
    if not isinstance(formula, str):
        raise FormulaError(f"expected a formula string, got {type(formula).__name__}")
    s = "".join(formula.split())
    if not s:
        raise FormulaError("empty formula")
    if _SIMPLE.fullmatch(s):
        counts: dict = {}
        for el, amt in _ELEM_AMT.findall(s):
            a = float(amt) if amt else 1.0
            counts[el] = counts[el] + a if el in counts else a
        if not _KNOWN.issuperset(counts):
            counts = _canonical(counts)
    else:
        parts = _HYDRATE_SEP.split(s)
        counts = {}
        for k, part in enumerate(parts):
            factor = 1.0
            if k > 0:  # "5H2O" in a hydrate: leading multiplier
                m = _LEADING_NUM.match(part)
                if m:
                    factor = float(m.group(1))
                    part = part[m.end():]
            if not part:
                raise FormulaError("empty part in hydrate formula")
            for e, a in _parse_groups(part).items():
                counts[e] = counts.get(e, 0.0) + a * factor
    _check_finite(counts)
    if 0.0 in counts.values():
        counts = {e: a for e, a in counts.items() if a != 0.0}
    if not counts:
        raise FormulaError("formula has no atoms")
    return counts


def composition_to_dict(comp) -> dict:
    """``{element: amount}`` from a pymatgen ``Composition`` (species collapsed to elements)."""
    out: dict = {}
    for el, amt in comp.element_composition.items():
        sym = str(el)
        if sym not in ATOMIC_NUMBER:
            raise FormulaError(f"unknown element {sym!r}")
        if not math.isfinite(amt):
            raise FormulaError(f"amount of {sym} is {amt} (not a finite number)")
        if amt < 0:
            raise FormulaError(f"negative amount of {sym}")
        if amt > 0:
            out[sym] = out.get(sym, 0.0) + float(amt)
    _check_finite(out)
    if not out:
        raise FormulaError("composition has no atoms")
    return out


def to_element_dict(item) -> dict:
    """Parse one input item: a formula string, a pymatgen Composition or a mapping."""
    if isinstance(item, str):
        return parse_formula(item)
    if hasattr(item, "element_composition"):
        return composition_to_dict(item)
    if isinstance(item, dict):
        out: dict = {}
        for el, amt in item.items():
            try:
                amount = float(amt)
            except (TypeError, ValueError):
                raise FormulaError(f"amount of {el} is not a number: {amt!r}") from None
            _add(out, str(el), amount)
        _check_finite(out)
        if any(a < 0 for a in out.values()):
            raise FormulaError("negative amount")
        out = {e: a for e, a in out.items() if a != 0.0}
        if not out:
            raise FormulaError("composition has no atoms")
        return out
    if item is None or (isinstance(item, float) and np.isnan(item)):
        raise FormulaError("missing formula")
    raise FormulaError(f"expected a formula string or Composition, got {type(item).__name__}")


def element_count(item) -> int:
    """Number of distinct elements of a formula, ``Composition``, mapping or ``Structure``.

    Parameters
    ----------
    item : str, Composition, dict or Structure

    Returns
    -------
    int

    Raises
    ------
    FormulaError
        If ``item`` is not a parsable composition.

    Examples
    --------
    >>> element_count("AlCoCrFeNi"), element_count({"Na": 1, "Cl": 1})
    (5, 2)
    """
    if hasattr(item, "composition"):  # a Structure
        item = item.composition
    return len(to_element_dict(item))

