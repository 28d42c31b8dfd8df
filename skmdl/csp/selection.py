"""Which candidates get the expensive steps: diverse relaxation sets, distinct rankings.

Shared by :class:`~skmdl.csp.ShotgunCSP`'s pre-relaxation, relaxation and final
ranking; plain functions of ranked :class:`~skmdl.csp.Candidate` lists.
"""

from __future__ import annotations

import warnings

from .metrics import structure_match


def diverse_head(ranked, n):
    """The ``n`` candidates to relax, taken in turn from each generator's own energy order.

    Generators come in the order of their best candidate; a candidate that
    StructureMatcher finds equal to one already taken is skipped. Random
    symmetric crystals have far higher unrelaxed energies than substituted
    templates, so a plain top-n would relax only template candidates (and
    near-copies of one).

    Examples
    --------
    >>> diverse_head([], 3)
    []
    """
    queues = {}
    for c in ranked:
        queues.setdefault(c.generator, []).append(c)
    queues = list(queues.values())
    out = []
    while len(out) < n and any(queues):
        for q in queues:
            while q:
                c = q.pop(0)
                if not any(structure_match(c.structure, o.structure) for o in out):
                    out.append(c)
                    break
            if len(out) >= n:
                break
    return out


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
    """:func:`~skmdl.csp.generators.wyckoff_signature` of each template with ≤ ``max_atoms``
    sites: what a leave-one-out removes from the Materials Project Wyckoff statistics
    (one count per polymorph). Templates pyxtal cannot analyse are skipped.
    """
    from .generators import wyckoff_signature

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
