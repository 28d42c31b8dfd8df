"""Candidate crystal generators: templates, symmetric random (Wyckoff), plain random.

Each generator is fitted on reference structures (a :class:`TemplateStore`) and
then ``generate(composition, n, rng)`` returns up to ``n`` :class:`Candidate`
records of exactly that composition whose interatomic distances all exceed
``min_distance_factor`` × the sum of the two covalent radii.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Lattice, Structure
from sklearn.base import BaseEstimator

from .candidate import Candidate
from .templates import TemplateStore
from .volume import VolumeModel

#: element features used for the element-similarity of substitutions
_SIMILARITY_FEATURES = ("MendeleevNumber", "Column", "Row", "CovalentRadius",
                        "Electronegativity", "NValence")


@lru_cache(maxsize=1)
def _element_features():
    from skmdl.descriptors.elements import load_element_table

    t = load_element_table("magpie")[list(_SIMILARITY_FEATURES)].astype(float)
    t = t.fillna(t.median())
    return (t - t.mean()) / t.std()


@lru_cache(maxsize=None)
def element_distance(a: str, b: str) -> float:
    """Distance between two elements in standardized Magpie feature space (0 for a == b)."""
    f = _element_features()
    a, b = str(a), str(b)
    if a == b:
        return 0.0
    if a not in f.index or b not in f.index:  # no Magpie data (e.g. Cf): least similar
        return 10.0
    return float(np.linalg.norm(f.loc[a].to_numpy() - f.loc[b].to_numpy()))


@lru_cache(maxsize=None)
def covalent_radius(el: str) -> float:
    """Covalent radius in Å (Magpie table, pm)."""
    from skmdl.descriptors.elements import load_element_table

    t = load_element_table("magpie")
    r = t.loc[str(el), "CovalentRadius"] if str(el) in t.index else np.nan
    return float(r) / 100.0 if np.isfinite(r) else 1.5


def min_distance_ok(structure: Structure, factor: float = 0.6) -> bool:
    """All interatomic distances (periodic images included) ≥ factor × (r_i + r_j)."""
    radii = np.array([covalent_radius(sp.symbol) for sp in structure.species])
    cutoff = 2 * factor * radii.max() + 1e-6
    centers, neighbors, _, dists = structure.get_neighbor_list(cutoff)
    if len(dists) == 0:
        return True
    return bool(np.all(dists >= factor * (radii[centers] + radii[neighbors]) - 1e-8))


def _amount_groups(comp: Composition) -> dict:
    """Elements of a reduced composition grouped by their (integer) amount."""
    groups = defaultdict(list)
    for el, amt in comp.reduced_composition.items():
        groups[round(float(amt), 6)].append(str(el))
    return {k: sorted(v) for k, v in groups.items()}


@lru_cache(maxsize=200_000)
def _groups_of(formula: str) -> dict:
    return _amount_groups(Composition(formula))


def substitutions(template_comp, target_comp, max_assignments=24):
    """Template element -> target element maps that turn one stoichiometry into the other.

    Elements can only swap within groups of equal amount; the maps are sorted by
    total element distance (most similar first), ties broken by the map itself.

    Examples
    --------
    >>> substitutions("KCl", "NaBr")
    [{'Cl': 'Br', 'K': 'Na'}, {'Cl': 'Na', 'K': 'Br'}]
    >>> substitutions("KCl", "Na2O")
    []
    """
    tg, gg = _groups_of(str(template_comp)), _groups_of(str(target_comp))
    if sorted((k, len(v)) for k, v in tg.items()) != sorted((k, len(v)) for k, v in gg.items()):
        return []
    per_group = []
    for amt, t_els in tg.items():
        per_group.append([dict(zip(t_els, perm)) for perm in itertools.permutations(gg[amt])])
    maps = []
    for combo in itertools.product(*per_group):
        m = {}
        for part in combo:
            m.update(part)
        cost = sum(element_distance(a, b) for a, b in m.items())
        maps.append((round(cost, 9), sorted(m.items()), m))
    maps.sort(key=lambda x: (x[0], x[1]))
    return [m for _, _, m in maps[:max_assignments]]


def _perturb(structure: Structure, rng, lattice_sigma, site_sigma) -> Structure:
    """Random symmetric lattice strain and Gaussian site displacements (Å)."""
    s = structure.copy()
    if lattice_sigma > 0:
        e = rng.normal(0, lattice_sigma, (3, 3))
        strain = np.eye(3) + (e + e.T) / 2
        s.lattice = Lattice(s.lattice.matrix @ strain)
    if site_sigma > 0:
        cart = s.cart_coords + rng.normal(0, site_sigma, (len(s), 3))
        s = Structure(s.lattice, s.species, cart, coords_are_cartesian=True)
    return s


class BaseGenerator(BaseEstimator):
    """Shared parameters and the fitted volume model.

    A generator is a scikit-learn ``BaseEstimator`` for its parameters
    (``get_params`` / ``set_params`` / ``clone`` / repr), but it is fitted on a
    :class:`TemplateStore`, not on ``(X, y)``: :class:`ShotgunCSP` is the
    estimator a user fits.
    """

    name = "base"

    def __init__(self, min_distance_factor=0.6, volume_model=None, max_atoms=40):
        self.min_distance_factor = min_distance_factor
        self.volume_model = volume_model
        self.max_atoms = max_atoms

    def fit(self, store: TemplateStore, volume_model: VolumeModel | None = None):
        self.volume_ = volume_model or self.volume_model or VolumeModel()
        return self

    def _ok(self, s):
        return min_distance_ok(s, self.min_distance_factor)

    def _formula_units(self, comp: Composition, rng, n=None):
        """Formula units per cell with at most ``max_atoms`` atoms (≥ 1)."""
        natoms = int(round(comp.reduced_composition.num_atoms))
        zs = [z for z in (1, 2, 3, 4, 6, 8) if z * natoms <= self.max_atoms] or [1]
        return zs


class TemplateGenerator(BaseGenerator):
    """Element substitution into known crystals with the same stoichiometry pattern.

    The templates of the target's anonymized formula (any number of formula
    units per cell) are collapsed into structure types (same space group and
    Wyckoff sequence, :mod:`skmdl.csp.types`). Each type is substituted from
    its members whose elements are most similar to the target's: every
    assignment of target elements to template elements of equal amount is
    scored by the summed element distance, and the ``per_type`` best
    (member, assignment) pairs become ideal candidates. Candidates are ordered
    by the prior ``cost - count_weight * ln(type members)``, scaled to the
    template's volume times the volume model's ratio of target to template
    (or to the target's predicted volume, ``volume="absolute"``); ``n`` is
    filled with randomly strained and rattled copies of them.

    Parameters
    ----------
    max_assignments : int
        Substitution maps scored per member.
    per_type : int
        Ideal candidates kept per structure type (its best members / assignments).
    count_weight : float
        Weight of the log member count in the prior (0: similarity only).
    volume : {"ratio", "absolute"}
    volume_window : (float, float)
        With ``volume="ratio"``, the volume is kept within these multiples of
        the volume model's own prediction for the target: a template much
        denser than its formula's predicted volume (a high-pressure phase, a
        poor volume prediction) gave BN cells of 2.7 Å³/atom, which CHGNet
        cannot rank and whose dense graphs took gigabytes.
    lattice_sigma, site_sigma : float
        Std of the random strain (fraction) and site displacement (Å) of the copies.
    min_distance_factor : float
    volume_model : VolumeModel, optional
    max_atoms : int
        Templates with more atoms are skipped.
    """

    name = "template"

    def __init__(self, max_assignments=24, per_type=2, count_weight=0.5, volume="ratio",
                 volume_window=(0.6, 1.6), lattice_sigma=0.03, site_sigma=0.08,
                 min_distance_factor=0.6, volume_model=None, max_atoms=120):
        super().__init__(min_distance_factor, volume_model, max_atoms)
        self.volume_window = volume_window
        self.max_assignments = max_assignments
        self.per_type = per_type
        self.count_weight = count_weight
        self.volume = volume
        self.lattice_sigma = lattice_sigma
        self.site_sigma = site_sigma

    def fit(self, store: TemplateStore, volume_model=None):
        if self.volume not in ("ratio", "absolute"):
            raise ValueError(f"volume must be 'ratio' or 'absolute', got {self.volume!r}")
        super().fit(store, volume_model)
        self.store_ = store
        return self

    def type_choices(self, composition) -> list:
        """``(prior, cost, template, substitution, type)`` per kept (type, member, map),
        best prior first: the cheap screen that decides what is built."""
        comp = Composition(composition)
        out = []
        for order, typ in enumerate(self.store_.types(comp, self.max_atoms)):
            scored = []
            for t in typ.members:
                for sub in substitutions(t.formula, comp, self.max_assignments):
                    cost = round(sum(element_distance(a, b) for a, b in sub.items()), 9)
                    scored.append((cost, t.id, t, sub))
            scored.sort(key=lambda x: (x[0], x[1]))
            bonus = self.count_weight * float(np.log(typ.count))
            out += [(round(c - bonus, 9), order, c, t, sub, typ)
                    for c, _, t, sub in scored[:self.per_type]]
        out.sort(key=lambda x: x[:2])
        return [(p, c, t, sub, typ) for p, _, c, t, sub, typ in out]

    def _scaled(self, s: Structure, template, comp) -> Structure:
        """``s`` at the template's volume times the volume model's ratio, kept within
        ``volume_window`` of the model's own volume for the target."""
        if self.volume == "ratio":
            per_atom = self.volume_.per_atom(comp)
            ratio = per_atom / self.volume_.per_atom(template.formula)
            if np.isfinite(ratio) and ratio > 0:
                target = per_atom * len(s)
                lo, hi = self.volume_window
                s.scale_lattice(float(np.clip(template.structure.volume * ratio,
                                              lo * target, hi * target)))
                return s
        return self.volume_.scale(s)

    def ideal(self, composition, limit=None) -> list[Candidate]:
        """Unperturbed candidates, best prior first, duplicates removed (at most ``limit``)."""
        comp = Composition(composition)
        choices = self.type_choices(comp)
        self.volume_.prefetch([comp.reduced_formula] + [t.formula for _, _, t, _, _ in choices])
        out, seen = [], set()
        for prior, cost, t, sub, typ in choices:
            if limit is not None and len(out) >= limit:
                break
            s = t.structure.copy()
            s.replace_species(sub)
            s = self._scaled(s, t, comp)
            key = dedup_key(s)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(s, self.name, template_id=t.id, substitution=sub,
                                 space_group=typ.space_group,
                                 info={"perturbed": False, "substitution_cost": cost,
                                       "prior": prior, "type": typ.key,
                                       "type_count": typ.count}))
        return out

    def generate(self, composition, n, rng) -> list[Candidate]:
        ideal = self.ideal(composition, limit=n)
        out = list(ideal[:n])
        if not ideal:
            return out
        tries = 0
        while len(out) < n and tries < 10 * n:
            tries += 1
            base = ideal[int(rng.integers(len(ideal)))]
            s = _perturb(base.structure, rng, self.lattice_sigma, self.site_sigma)
            if self._ok(s):
                out.append(Candidate(s, self.name, template_id=base.template_id,
                                     substitution=base.substitution, info={"perturbed": True}))
        return out


def dedup_key(s: Structure, decimals=2):
    """Cheap identity of a structure: composition, volume and its sorted species-pair distances."""
    ci, ni, _, d = s.get_neighbor_list(4.0)
    z = np.array([sp.Z for sp in s.species])
    pairs = np.stack([np.round(d, decimals), np.minimum(z[ci], z[ni]), np.maximum(z[ci], z[ni])], 1)
    pairs = pairs[np.lexsort(pairs.T[::-1])][:128]
    return (s.composition.reduced_formula, len(s), round(s.volume / len(s), 1),
            tuple(map(tuple, pairs.tolist())))


class RandomGenerator(BaseGenerator):
    """AIRSS-like baseline: random cell of the predicted volume, random positions.

    Cell lengths and angles are drawn, the cell is scaled to the library
    volume, and atoms are placed one at a time, rejecting positions closer than
    the minimum distance (``max_site_tries`` tries per atom).
    """

    name = "random"

    def __init__(self, max_site_tries=50, min_distance_factor=0.6, volume_model=None,
                 max_atoms=24):
        super().__init__(min_distance_factor, volume_model, max_atoms)
        self.max_site_tries = max_site_tries

    def generate(self, composition, n, rng) -> list[Candidate]:
        comp = Composition(composition).reduced_composition
        vpa = self.volume_.per_atom(comp)
        zs = self._formula_units(comp, rng)
        radii = {str(e): covalent_radius(str(e)) for e in comp}
        out = []
        for _ in range(4 * n):
            if len(out) >= n:
                break
            z = int(rng.choice(zs[:3]))
            species = [str(e) for e in comp for _ in range(z * int(round(comp[e])))]
            rng.shuffle(species)
            abc = rng.uniform(0.7, 1.3, 3)
            angles = rng.uniform(65, 115, 3)
            try:
                lat = Lattice.from_parameters(*abc, *angles)
            except Exception:  # noqa: BLE001
                continue
            if not np.isfinite(lat.volume) or lat.volume < 0.2:
                continue
            lat = lat.scale(vpa * len(species))
            placed_sp, placed = [], []
            for sp in species:
                for _ in range(self.max_site_tries):
                    f = rng.random(3)
                    if not placed:
                        break
                    d = lat.get_all_distances([f], placed)[0]
                    lim = [self.min_distance_factor * (radii[sp] + radii[q]) for q in placed_sp]
                    if np.all(d >= lim):
                        break
                else:
                    break
                placed.append(f)
                placed_sp.append(sp)
            if len(placed) != len(species):
                continue
            s = Structure(lat, placed_sp, placed)
            if self._ok(s):
                out.append(Candidate(s, self.name))
        return out


__all__ = ["TemplateGenerator", "WyckoffGenerator", "RandomGenerator", "substitutions",
           "wyckoff_signature",
           "element_distance", "min_distance_ok"]
