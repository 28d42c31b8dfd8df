"""Candidate crystal generators: templates, symmetric random (Wyckoff), plain random.

Each generator is fitted on reference structures (a :class:`TemplateStore`) and
then ``generate(composition, n, rng)`` returns up to ``n`` :class:`Candidate`
records of exactly that composition whose interatomic distances all exceed
``min_distance_factor`` × the sum of the two covalent radii.
"""

from __future__ import annotations

import itertools
import warnings
from collections import Counter, defaultdict
from functools import lru_cache

import numpy as np
from pymatgen.core import Composition, Lattice, Structure

from .candidate import Candidate
from .templates import TemplateStore, anonymized_formula
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


def substitutions(template_comp, target_comp, max_assignments=24):
    """Template element -> target element maps that turn one stoichiometry into the other.

    Elements can only swap within groups of equal amount; the maps are sorted by
    total element distance (most similar first), ties broken by the map itself.
    """
    tg, gg = _amount_groups(Composition(template_comp)), _amount_groups(Composition(target_comp))
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


def _seed(rng) -> int:
    return int(rng.integers(0, 2**31 - 1))


class _Generator:
    """Shared parameters and the fitted volume model."""

    name = "base"

    def __init__(self, min_distance_factor=0.6, volume_model=None, max_atoms=40):
        self.min_distance_factor = min_distance_factor
        self.volume_model = volume_model
        self.max_atoms = max_atoms

    def get_params(self, deep=False):
        return {k: getattr(self, k) for k in self._param_names()}

    def _param_names(self):
        import inspect

        return [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

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


class TemplateGenerator(_Generator):
    """Element substitution into known crystals with the same stoichiometry pattern.

    For each template of the target's anonymized formula (any number of formula
    units per cell), every distinct assignment of target elements to template
    elements of equal amount (most similar elements first, at most
    ``max_assignments``) gives one ideal candidate scaled to the predicted
    volume; ``n`` is filled with randomly strained and rattled copies of them.

    Parameters
    ----------
    max_assignments : int
        Substitution maps kept per template.
    lattice_sigma, site_sigma : float
        Std of the random strain (fraction) and site displacement (Å) of the copies.
    min_distance_factor : float
    volume_model : VolumeModel, optional
    max_atoms : int
        Templates with more atoms are skipped.
    """

    name = "template"

    def __init__(self, max_assignments=24, lattice_sigma=0.03, site_sigma=0.08,
                 min_distance_factor=0.6, volume_model=None, max_atoms=120):
        super().__init__(min_distance_factor, volume_model, max_atoms)
        self.max_assignments = max_assignments
        self.lattice_sigma = lattice_sigma
        self.site_sigma = site_sigma

    def fit(self, store: TemplateStore, volume_model=None):
        super().fit(store, volume_model)
        self.store_ = store
        return self

    def ideal(self, composition) -> list[Candidate]:
        """One unperturbed candidate per (template, substitution), duplicates removed."""
        comp = Composition(composition)
        maps = []
        for order, t in enumerate(self.store_.lookup(comp)):
            if len(t.structure) > self.max_atoms:
                continue
            for sub in substitutions(t.structure.composition, comp, self.max_assignments):
                cost = sum(element_distance(a, b) for a, b in sub.items())
                maps.append((round(cost, 9), order, t, sub))
        maps.sort(key=lambda m: m[:2])  # most similar substitutions first, over all templates
        out, seen = [], set()
        for cost, _, t, sub in maps:
            s = t.structure.copy()
            s.replace_species(sub)
            s = self.volume_.scale(s)
            key = _dedup_key(s)
            if key in seen:
                continue
            seen.add(key)
            out.append(Candidate(s, self.name, template_id=t.id, substitution=sub,
                                 info={"perturbed": False, "substitution_cost": cost}))
        return out

    def generate(self, composition, n, rng) -> list[Candidate]:
        ideal = self.ideal(composition)
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


def _dedup_key(s: Structure, decimals=2):
    """Cheap identity of a structure: composition, volume and its sorted species-pair distances."""
    ci, ni, _, d = s.get_neighbor_list(4.0)
    z = np.array([sp.Z for sp in s.species])
    pairs = np.stack([np.round(d, decimals), np.minimum(z[ci], z[ni]), np.maximum(z[ci], z[ni])], 1)
    pairs = pairs[np.lexsort(pairs.T[::-1])][:128]
    return (s.composition.reduced_formula, len(s), round(s.volume / len(s), 1),
            tuple(map(tuple, pairs.tolist())))


class WyckoffGenerator(_Generator):
    """Random symmetric crystals (pyxtal) in the space groups most probable for the composition.

    ``fit`` learns how often each space group occurs among the reference
    structures of every stoichiometry pattern (anonymized formula) and overall;
    a target's prior is ``w_same`` × its pattern's frequencies + ``w_global`` ×
    the global frequencies + the rest spread uniformly over all 230 groups.

    Parameters
    ----------
    w_same, w_global : float
    symprec : float
        Tolerance for the reference structures' space groups.
    max_tries : int
        pyxtal attempts per requested candidate.
    """

    name = "wyckoff"

    def __init__(self, w_same=0.6, w_global=0.3, symprec=0.1, max_tries=4,
                 min_distance_factor=0.6, volume_model=None, max_atoms=24):
        super().__init__(min_distance_factor, volume_model, max_atoms)
        self.w_same = w_same
        self.w_global = w_global
        self.symprec = symprec
        self.max_tries = max_tries

    def fit(self, store: TemplateStore, volume_model=None):
        super().fit(store, volume_model)
        by_key, overall = defaultdict(Counter), Counter()
        for t in store:
            sg = _space_group(t.structure, self.symprec)
            if sg:
                by_key[t.key][sg] += 1
                overall[sg] += 1
        self.space_group_counts_ = dict(by_key)
        self.global_counts_ = overall
        return self

    def prior(self, composition) -> np.ndarray:
        """Probability of each space group 1..230 (index 0 = group 1)."""
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

    def generate(self, composition, n, rng) -> list[Candidate]:
        from pyxtal import pyxtal

        comp = Composition(composition).reduced_composition
        els = [str(e) for e in comp]
        counts = [int(round(comp[e])) for e in els]
        vpa = self.volume_.per_atom(comp)
        prior, zs = self.prior(comp), self._formula_units(comp, rng)
        out = []
        for _ in range(n * self.max_tries):
            if len(out) >= n:
                break
            sg = int(rng.choice(230, p=prior)) + 1
            z = int(rng.choice(zs))
            c = pyxtal()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    c.from_random(3, sg, els, [z * k for k in counts], factor=1.0,
                                  random_state=_seed(rng), max_count=5)
                if not c.valid:
                    continue
                s = c.to_pymatgen()
            except Exception:  # noqa: BLE001 - pyxtal rejects incompatible Wyckoff sets
                continue
            s.scale_lattice(vpa * len(s))
            if s.composition.reduced_composition == comp and self._ok(s):
                out.append(Candidate(s, self.name, space_group=sg, info={"z": z}))
        return out


def _space_group(structure, symprec):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return SpacegroupAnalyzer(structure, symprec=symprec).get_space_group_number()
    except Exception:  # noqa: BLE001 - spglib fails on a few odd cells
        return None


class RandomGenerator(_Generator):
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
           "element_distance", "min_distance_ok"]
