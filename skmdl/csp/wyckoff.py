"""Random symmetric crystals from the Materials Project's Wyckoff statistics (pyxtal).

:class:`WyckoffGenerator` draws (space group, Wyckoff-position set) pairs in
proportion to how often Materials Project crystals of the same size occupy
them, splits the target's atoms over the positions and lets pyxtal place them;
:func:`wyckoff_signature` is the key a leave-one-out removes from those
statistics. The shared generator plumbing is in :mod:`skmdl.csp.generators`.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Structure

from .candidate import Candidate
from .generators import BaseGenerator, dedup_key
from .templates import TemplateStore, anonymized_formula


def _seed(rng) -> int:
    """A non-negative int seed for pyxtal, drawn from ``rng``."""
    return int(rng.integers(0, 2**31 - 1))


@lru_cache(maxsize=1)
def _mp_wyckoff_table() -> dict:
    """pyxtal's Materials Project Wyckoff statistics, by atoms per conventional cell.

    ``{n_atoms: [(space group, Wyckoff indices, count), ...]}`` from
    ``pyxtal/database/spg_num_wps_mp.csv`` (how often each space group +
    Wyckoff-position combination occurs among MP crystals; indices follow
    pyxtal's ``Group(sg)[i]`` order, general position first).
    """
    import csv
    from importlib.resources import files

    table = defaultdict(list)
    with files("pyxtal").joinpath("database/spg_num_wps_mp.csv").open() as fh:
        for row in csv.DictReader(fh):
            wps = tuple(int(i) for i in row["wps"].split("-"))
            table[int(row["n_atoms"])].append((int(row["spg"]), wps, int(row["count"])))
    return dict(table)


@lru_cache(maxsize=None)
def _wyckoff_positions(sg: int) -> tuple:
    """``(multiplicity, label, degrees of freedom)`` of each Wyckoff position of a group."""
    from pyxtal.symmetry import Group

    g = Group(sg)
    return tuple((int(w.multiplicity), w.get_label(), int(w.get_dof())) for w in g)


def wyckoff_signature(structure: Structure, tol: float = 0.1):
    """``(space group, atoms per conventional cell, sorted Wyckoff indices)`` of a crystal.

    The key of :func:`_mp_wyckoff_table`; used to leave a benchmark target's own
    entry out of the statistics (``WyckoffGenerator(exclude_signatures=...)``).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> nacl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
    ...                                  [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> wyckoff_signature(nacl)   # rock salt: 4a + 4b of Fm-3m, 8 atoms per conventional cell
    (225, 8, (10, 11))
    """
    from pyxtal import pyxtal

    c = pyxtal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c.from_seed(structure, tol=tol)
    n = sum(site.wp.multiplicity for site in c.atom_sites)
    return c.group.number, int(n), tuple(sorted(int(site.wp.index) for site in c.atom_sites))


def _split_sites(mult, targets, limit, rng):
    """Assignments of Wyckoff positions (multiplicities ``mult``) to elements so that
    each element ``e`` gets exactly ``targets[e]`` atoms; up to ``limit``, random order."""
    els = list(targets)
    order = sorted(range(len(mult)), key=lambda i: -mult[i])
    out, left, assign = [], dict(targets), [None] * len(mult)

    def rec(k):
        if len(out) >= limit:
            return
        if k == len(order):
            if all(v == 0 for v in left.values()):
                out.append(list(assign))
            return
        i = order[k]
        for e in rng.permutation(els):
            if left[e] >= mult[i]:
                left[e] -= mult[i]
                assign[i] = e
                rec(k + 1)
                left[e] += mult[i]
                assign[i] = None

    rec(0)
    return out


class WyckoffGenerator(BaseGenerator):
    """Random symmetric crystals (pyxtal) in the space groups and Wyckoff sets most
    probable for the composition.

    ``prior="mp"`` (default) draws a (space group, Wyckoff-position set) from
    pyxtal's Materials Project statistics among the sets whose multiplicities
    can be split into the target's atom counts (Z formula units, at most
    ``max_atoms`` atoms), with probability ∝ how often the set occurs in MP,
    assigns elements to the positions and lets pyxtal place free coordinates
    and the lattice at random. ``prior="templates"`` draws only the space
    group, from how often each occurs among the reference structures of the
    same stoichiometry pattern (``w_same``) and overall (``w_global``), and
    lets pyxtal choose the Wyckoff positions. With ``"mp"`` the template prior
    is the fallback when no MP set fits.

    Parameters
    ----------
    prior : {"mp", "templates"}
    exclude_signatures : sequence of tuples
        :func:`wyckoff_signature` values whose MP count is reduced by one per
        occurrence (:class:`ShotgunCSP` adds one per polymorph of its
        ``exclude_formulas`` found in the reference pool).
    w_same, w_global : float
    symprec : float
        Tolerance for the reference structures' space groups.
    max_tries : int
        pyxtal attempts per requested candidate.
    time_limit : float, optional
        Seconds after which ``generate`` returns what it has (pyxtal can take
        seconds per try on large, low-symmetry cells). The number of crystals
        it allows depends on the machine and its load, so two runs with the
        same ``rng`` may differ; None for reproducible output.
    max_attempts : int, optional
        pyxtal calls per ``generate`` at most, a budget that does not depend
        on the machine: with ``time_limit=None`` the crystals depend on the
        ``rng`` alone. None: ``max_tries`` per requested crystal.
    """

    name = "wyckoff"

    def __init__(self, prior="mp", exclude_signatures=(), w_same=0.6, w_global=0.3,
                 symprec=0.1, max_tries=4, min_distance_factor=0.6, volume_model=None,
                 max_atoms=24, time_limit=60.0, max_attempts=None):
        super().__init__(min_distance_factor, volume_model, max_atoms)
        self.prior = prior
        self.exclude_signatures = exclude_signatures
        self.w_same = w_same
        self.w_global = w_global
        self.symprec = symprec
        self.max_tries = max_tries
        self.time_limit = time_limit
        self.max_attempts = max_attempts

    def fit(self, store: TemplateStore, volume_model=None):
        if self.prior not in ("mp", "templates"):
            raise ValueError(f"prior must be 'mp' or 'templates', got {self.prior!r}")
        super().fit(store, volume_model)
        by_key, overall = defaultdict(Counter), Counter()
        for t in store:  # a pool's own space groups; computed only for plain structures
            sg = t.space_group
            if sg is None:
                sg = _space_group(t.structure, self.symprec)
                if self.symprec == 0.1:  # the pools' tolerance: keep it on the template
                    t.space_group = sg
            if sg:
                by_key[t.key][sg] += 1
                overall[sg] += 1
        self.space_group_counts_ = dict(by_key)
        self.global_counts_ = overall
        #: signature -> how many entries to subtract (one per left-out polymorph)
        self.excluded_ = Counter((int(a), int(b), tuple(int(i) for i in c))
                                 for a, b, c in self.exclude_signatures)
        return self

    def space_group_prior(self, composition) -> np.ndarray:
        """Template prior: probability of each space group 1..230 (index 0 = group 1)."""
        p = np.full(230, (1 - self.w_same - self.w_global) / 230)
        same = self.space_group_counts_.get(anonymized_formula(composition))
        for counts, w in ((same, self.w_same), (self.global_counts_, self.w_global)):
            if counts:
                total = sum(counts.values())
                for sg, c in counts.items():
                    p[sg - 1] += w * c / total
            else:
                p += w / 230
        return p / p.sum()

    def wyckoff_sets(self, composition, rng=None, per_set=4):
        """MP Wyckoff sets that fit the composition: list of ``(sg, {element: [labels]}, count)``."""
        rng = np.random.default_rng(0) if rng is None else rng
        comp = Composition(composition).reduced_composition
        counts = {str(e): int(round(comp[e])) for e in comp}
        per_fu = sum(counts.values())
        table = _mp_wyckoff_table()
        out = []
        for z in range(1, self.max_atoms // per_fu + 1):
            for sg, wps, count in table.get(z * per_fu, ()):
                count -= self.excluded_.get((sg, z * per_fu, wps), 0)
                if count <= 0 or len(wps) < len(counts):
                    continue
                info = _wyckoff_positions(sg)
                mult = [info[i][0] for i in wps]
                for split in _split_sites(mult, {e: z * k for e, k in counts.items()},
                                          per_set, rng):
                    sites = {e: [info[i][1] for i, a in zip(wps, split) if a == e]
                             for e in counts}
                    out.append((sg, sites, count))
        return out

    def generate(self, composition, n, rng) -> list[Candidate]:
        comp = Composition(composition).reduced_composition
        sets = self.wyckoff_sets(comp, rng) if self.prior == "mp" else []
        tries = n * self.max_tries
        if self.max_attempts is not None:
            tries = min(tries, self.max_attempts)
        if sets:
            w = np.array([c for _, _, c in sets], float)
            draws = ((sets[i][0], sets[i][1]) for i in
                     rng.choice(len(sets), size=tries, p=w / w.sum()))
        else:
            prior, zs = self.space_group_prior(comp), self._formula_units(comp, rng)
            draws = ((int(rng.choice(230, p=prior)) + 1, int(rng.choice(zs)))
                     for _ in range(tries))
        out, seen = [], set()
        vpa = self.volume_.per_atom(comp)
        t_end = time.perf_counter() + (np.inf if self.time_limit is None else self.time_limit)
        for sg, spec in draws:
            if len(out) >= n or time.perf_counter() > t_end:
                break
            s = self._pyxtal(comp, sg, spec, rng)
            if s is None:
                continue
            s.scale_lattice(vpa * len(s))
            if s.composition.reduced_composition != comp or not self._ok(s):
                continue
            key = dedup_key(s)
            if key in seen:
                continue
            seen.add(key)
            info = {"wyckoff": spec} if isinstance(spec, dict) else {"z": spec}
            out.append(Candidate(s, self.name, space_group=sg, info=info))
        return out

    @staticmethod
    def _pyxtal(comp, sg, spec, rng):
        """One random pyxtal crystal: ``spec`` is Z or ``{element: [Wyckoff labels]}``."""
        from pyxtal import pyxtal

        els = [str(e) for e in comp]
        c = pyxtal()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if isinstance(spec, dict):
                    nums = [sum(int(lab[:-1]) for lab in spec[e]) for e in els]
                    c.from_random(3, sg, els, nums, factor=1.0, sites=[spec[e] for e in els],
                                  random_state=_seed(rng), max_count=5)
                else:
                    c.from_random(3, sg, els, [spec * int(round(comp[e])) for e in els],
                                  factor=1.0, random_state=_seed(rng), max_count=5)
            return c.to_pymatgen() if c.valid else None
        except Exception:  # noqa: BLE001 - pyxtal rejects incompatible Wyckoff sets
            return None


def _space_group(structure, symprec):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return SpacegroupAnalyzer(structure, symprec=symprec).get_space_group_number()
    except Exception:  # noqa: BLE001 - spglib fails on a few odd cells
        return None
