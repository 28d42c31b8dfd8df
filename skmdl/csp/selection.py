"""Which candidates get the expensive steps: diverse relaxation sets, distinct rankings.

Shared by :class:`~skmdl.csp.ShotgunCSP`'s pre-relaxation, relaxation and final
ranking; plain functions of ranked :class:`~skmdl.csp.Candidate` lists.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .metrics import near_copy, structure_match


def is_ideal(c) -> bool:
    """Whether a candidate is an unperturbed template substitution."""
    return c.generator == "template" and not c.info.get("perturbed")


def training_set(cands, rng, n_train, ideal_atoms):
    """``(evaluated first, the rest)``: indices of the candidates the energy model sees first.

    The ideal substitutions in prior order (their order in ``cands``): at least
    ``3 * n_train // 4`` of them, more while their cells hold at most
    ``ideal_atoms`` atoms in all; then ``n_train`` minus that quarter-rule share
    drawn at random from the others. ``n_train=0``: none.

    Examples
    --------
    >>> training_set([], __import__("numpy").random.default_rng(0), 4, 100)
    ([], [])
    """
    ideal = [i for i, c in enumerate(cands) if is_ideal(c)]
    n_ideal = min(len(ideal), max(1, (3 * n_train) // 4)) if n_train else 0
    atoms = np.cumsum([len(cands[i].structure) for i in ideal])
    n_fit = int(np.searchsorted(atoms, ideal_atoms, side="right")) if n_ideal else 0
    first = ideal[:max(n_ideal, n_fit)]
    taken = set(first)
    rest = [i for i in range(len(cands)) if i not in taken]
    rng.shuffle(rest)
    first += rest[:max(0, n_train - n_ideal)]
    taken = set(first)
    return first, [i for i in range(len(cands)) if i not in taken]


def diverse_head(ranked, n, share=None, window=None):
    """The ``n`` candidates to relax, taken in turn from each generator's own energy order.

    Generators come in the order of their best candidate; a near copy of one
    already taken (:func:`~skmdl.csp.metrics.near_copy`, pymatgen's default
    tolerances, not the success criterion's looser ones, which merged
    baddeleyite ZrO2 into an orthorhombic candidate that relaxed elsewhere) is
    skipped. Random
    symmetric crystals have far higher unrelaxed energies than substituted
    templates, so a plain top-n would relax only template candidates (and
    near-copies of one); but plain alternation gives them half the slots even
    where all their crystals are far worse (ZrO2's baddeleyite substitution went
    unrelaxed behind four Wyckoff crystals 0.3-0.9 eV/atom higher).

    Parameters
    ----------
    ranked : list of Candidate
        Lowest energy first.
    n : int
    share : float, optional
        Share of the ``n`` slots kept for the generators after the first
        (split evenly among them, rounded up); the first generator gets the
        rest, and slots a generator cannot fill go to the others. None
        alternates plainly.
    window : float, optional
        Energy window (eV/atom above the lowest candidate): the candidates of
        the generators after the first claim slots only inside it, and every
        slot goes to a candidate inside it while there is one. LiFePO4's
        olivine went unrelaxed behind three Wyckoff crystals 0.7-1.7 eV/atom
        above the best substitution. None: no window.

    Examples
    --------
    >>> diverse_head([], 3)
    []
    """
    queues = {}
    for c in ranked:
        queues.setdefault(c.generator, []).append(c)
    queues = list(queues.values())
    quotas, fill = _quotas(len(queues), n, share), [n] * len(queues)
    passes = [(queues, quotas), (queues, fill)]
    if window is not None and queues:
        top = queues[0][0].energy_per_atom + window
        inside = [queues[0]] + [[c for c in q if c.energy_per_atom <= top] for q in queues[1:]]
        passes = [(inside, quotas), (inside, fill), (queues, fill)]
    out = []
    for live_queues, quota in passes:  # a candidate taken in one pass is a near copy later
        _fill(live_queues, quota, n, out)
    return out


def _fill(queues, quota, n, out) -> None:
    """Take from the queues until ``out`` holds ``n``, each queue up to its quota; the
    queue furthest behind its quota goes next (3 of 4 slots: t t w t ...)."""
    taken = [0] * len(queues)
    while len(out) < n:
        live = [i for i, q in enumerate(queues) if q and taken[i] < quota[i]]
        if not live:
            return
        i = min(live, key=lambda i: (taken[i] / quota[i], i))
        taken[i] += _take_distinct(queues[i], out)


def _quotas(n_queues, n, share):
    """Slots per generator queue, the first (best) queue first."""
    if share is None or n_queues < 2:
        return [n] * n_queues
    other = math.ceil(share * n / (n_queues - 1)) if share > 0 else 0
    return [max(0, n - other * (n_queues - 1))] + [other] * (n_queues - 1)


def _take_distinct(queue, out) -> bool:
    """Move the first candidate of ``queue`` that matches nothing in ``out`` onto it."""
    while queue:
        c = queue.pop(0)
        if not any(near_copy(c.structure, o.structure) for o in out):
            out.append(c)
            return True
    return False


def prerelax(ranked, relaxer, n, steps, share=None, max_atoms=8):
    """A few relaxation steps for the likely winners; ``(re-ranked, number pre-relaxed)``.

    The :func:`diverse_head` of ``n`` candidates (``share`` as there) and up to
    ``n`` more ideal substitutions of at most ``max_atoms`` atoms (unrelaxed,
    h-BN ranked 17th; a few steps bring it to the top) get ``steps``
    relaxation steps, in place; a candidate whose relaxation fails stays as it
    was. The energy before is kept in ``info["unrelaxed_energy"]``.
    """
    head = diverse_head(ranked, n, share)
    small = [c for c in ranked if is_ideal(c) and len(c.structure) <= max_atoms
             and not any(c is h for h in head)][:n]
    for c in head + small:
        try:
            s, e, _ = relaxer.relax(c.structure, steps=steps)
        except Exception:  # noqa: BLE001 - left as it was
            continue
        c.info["unrelaxed_energy"] = c.energy_per_atom
        c.structure, c.energy_per_atom, c.info["prerelaxed"] = s, e, True
    return sorted(ranked, key=lambda c: c.energy_per_atom), len(head) + len(small)


def relax_distinct(ranked, relaxer, n, share=None, window=None):
    """Relax candidates fully until ``n`` distinct relaxed crystals; ``(ranking, relaxed)``.

    Candidates come in :func:`diverse_head` order (``share`` and ``window`` as there), at most
    ``2 n`` of them: two candidates often relax into one crystal, and a
    relaxed crystal that matches an earlier one does not count. The ranking
    holds the relaxed candidates by energy, then the untried rest of
    ``ranked``; a candidate whose relaxation fails is dropped (its error in
    ``info["relax_error"]``).
    """
    from .candidate import Candidate

    relaxed, n_distinct, tried = [], 0, []
    for c in diverse_head(ranked, 2 * n, share, window):
        if n_distinct >= n:
            break
        tried.append(c)
        try:
            s, e, steps = relaxer.relax(c.structure)
        except Exception as exc:  # noqa: BLE001 - an exploding cell is a bad candidate
            c.info["relax_error"] = str(exc)
            continue
        n_distinct += not any(structure_match(s, r.structure) for r in relaxed)
        relaxed.append(Candidate(s, c.generator, c.template_id, c.substitution, c.space_group,
                                 e, True, c.surrogate_energy,
                                 {"unrelaxed_energy": c.energy_per_atom, **c.info,
                                  "relax_steps": steps}))
    rest = [c for c in ranked if not any(c is t for t in tried)]
    return sorted(relaxed, key=lambda c: c.energy_per_atom) + rest, len(relaxed)


def distinct(ranked, k):
    """The first ``k`` candidates of ``ranked`` that match no better-ranked one.

    Examples
    --------
    >>> distinct([], 10)
    []
    """
    out = []
    for c in ranked:
        if len(out) >= k:
            break
        if not any(structure_match(c.structure, o.structure) for o in out):
            out.append(c)
    return out


def polymorph_signatures(templates, max_atoms):
    """:func:`~skmdl.csp.wyckoff.wyckoff_signature` of each template with ≤ ``max_atoms``
    sites: what a leave-one-out removes from the Materials Project Wyckoff statistics
    (one count per polymorph). Templates pyxtal cannot analyse are skipped.
    """
    from .wyckoff import wyckoff_signature

    out = []
    for t in templates:
        if t.nsites > max_atoms:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(wyckoff_signature(t.structure))
        except Exception:  # noqa: BLE001 - pyxtal fails on a few odd cells
            continue
    return out


def tie_break_first(energies, keys, delta, higher=True) -> list:
    """Order of a ranked list with one candidate promoted to first by a prior.

    Among the candidates within ``delta`` eV/atom of the lowest energy, the one
    with the best ``key`` (largest if ``higher``, else smallest) goes first;
    the others keep their order. A key of None or NaN (a Wyckoff crystal, a
    rattled copy) is never promoted. For polymorphs closer in energy than the
    energy model's own error, where the model's order is a coin toss.

    Parameters
    ----------
    energies : sequence of float
        Energies per atom of the ranked candidates, best first.
    keys : sequence of float or None
        The prior of each candidate (a structure type's member count, a template prior).
    delta : float
        Window above the lowest energy, eV/atom.
    higher : bool, default=True
        Whether a larger key is better.

    Returns
    -------
    list of int
        Indices into the inputs, the promoted one first.

    Examples
    --------
    >>> tie_break_first([-3.000, -2.999, -2.95], [5, 400, 900], delta=0.002)
    [1, 0, 2]
    >>> tie_break_first([-3.000, -2.999], [5, None], delta=0.002)
    [0, 1]
    """
    e = np.asarray(energies, dtype=float)
    order = list(range(len(e)))
    if not len(e):
        return order
    k = np.array([np.nan if v is None else float(v) for v in keys])
    near = np.flatnonzero((e <= np.nanmin(e) + delta) & np.isfinite(k))
    if not len(near):
        return order
    best = near[np.argmax(k[near]) if higher else np.argmin(k[near])]
    return [int(best)] + [i for i in order if i != best]
