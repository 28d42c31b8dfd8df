"""What goes into crystal structure prediction, and what it says when nothing comes out.

:func:`parse_composition` reads a formula, Composition or Structure (naming
the bad item); :func:`as_items` turns a list, Series or array of inputs into a
list; :class:`NoCandidatesError` and :func:`provenance` say, in words, which
generators carried a formula and why none could.
"""

from __future__ import annotations

from pymatgen.core import Composition, Element, Structure

__all__ = ["NoCandidatesError", "as_items", "no_candidates_error", "parse_composition",
           "provenance"]


class NoCandidatesError(ValueError):
    """No generator produced a candidate structure for a formula."""


def parse_composition(x) -> Composition:
    """The reduced composition of a formula, Composition or Structure.

    Raises ValueError naming the input when it is no composition of known elements.

    Examples
    --------
    >>> parse_composition("Si2O4").reduced_formula
    'SiO2'
    >>> parse_composition("Xx2")
    Traceback (most recent call last):
    ...
    ValueError: cannot read a composition from 'Xx2': ...
    """
    if isinstance(x, Structure):
        return x.composition.reduced_composition
    if isinstance(x, Composition):
        return x.reduced_composition
    try:
        comp = Composition(str(x)).reduced_composition
    except Exception as exc:  # noqa: BLE001 - name the bad input
        raise ValueError(f"cannot read a composition from {x!r}: {exc}") from exc
    bad = [str(e) for e in comp if not isinstance(e, Element)]
    if bad or not len(comp):
        raise ValueError(f"cannot read a composition from {x!r}: unknown element(s) {bad}")
    return comp


def as_items(X) -> list:
    """A list of the inputs of a list, tuple, Series or array (never through ``np.asarray``)."""
    return list(X.tolist() if hasattr(X, "tolist") and not isinstance(X, list) else X)


def provenance(comp, counts, store) -> str:
    """Which generators carried a formula, in words; says why when no template fitted.

    Parameters
    ----------
    comp : Composition
    counts : dict
        Candidates per generator name.
    store : TemplateStore
        The fitted template store (its look-up explains a missing template).
    """
    if counts.get("template") != 0:
        return ", ".join(f"{k}: {v}" for k, v in counts.items())
    others = [k for k, v in counts.items() if k != "template" and v]
    n = len(store.lookup(comp))
    why = (f"no template has the stoichiometry pattern {comp.anonymized_formula}"
           if n == 0 else f"the {n} templates of pattern {comp.anonymized_formula} are "
           "all larger than the template generator's max_atoms")
    return f"{why}; carried by the {'/'.join(others) or 'no'} generator(s)"


def no_candidates_error(comp, generators) -> NoCandidatesError:
    """The error for a formula no generator could build, with what to try instead."""
    return NoCandidatesError(
        f"no candidate structure for {comp.reduced_formula}: no template has its "
        f"stoichiometry pattern {comp.anonymized_formula} and the "
        f"{'/'.join(type(g).__name__ for g in generators)} generators "
        "found no geometrically feasible crystal (try more n_candidates, other "
        "generators or more reference structures)")
