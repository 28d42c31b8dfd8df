"""ShotgunCSP: generate many candidates, screen them cheaply, relax the best few.

After Liu et al., "Shotgun crystal structure prediction using machine-learned
formation energies" (arXiv:2305.02158): candidates from element substitution
into templates and from symmetry-constrained random generation are screened
in one shot by an energy model fine-tuned on the target system's own
candidates, and only the lowest-energy ones are relaxed. Here the energy model
is the pretrained CHGNet potential (single points + relaxation) and the
system-specific screen is a kernel-ridge surrogate fitted on about
``n_train`` CHGNet energies of the target's candidates (:mod:`skmdl.csp.energy`).
"""

from __future__ import annotations

import copy
import time
import warnings
import zlib

import numpy as np
from pymatgen.core import Composition, Element, Structure
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .candidate import Candidate
from .energy import CHGNetEnergy, SurrogateEnergy
from .generators import RandomGenerator, TemplateGenerator, WyckoffGenerator
from .metrics import first_match_rank, structure_match
from .relax import CHGNetRelaxer
from .templates import TemplateStore
from .volume import VolumeModel

GENERATORS = {"template": TemplateGenerator, "wyckoff": WyckoffGenerator,
              "random": RandomGenerator}


def _composition(x) -> Composition:
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


def _items(X):
    return list(X.tolist() if hasattr(X, "tolist") and not isinstance(X, list) else X)


def _diverse_head(ranked, n):
    """The ``n`` candidates to relax: taken in turn from each generator's own energy
    order (generators in the order of their best candidate), skipping any that
    StructureMatcher finds equal to one already taken. Random symmetric crystals
    have far higher unrelaxed energies than substituted templates, so a plain
    top-n would relax only template candidates (and near-copies of one)."""
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


class NoCandidatesError(ValueError):
    """No generator produced a candidate structure for a formula."""


class ShotgunCSP(BaseEstimator):
    """Crystal structure prediction from a composition (ShotgunCSP workflow).

    ``fit(structures)`` stores the reference crystals (plus pymatgen's AFLOW
    prototypes) as templates, learns the space-group prior of the Wyckoff
    generator and sets up the volume model. ``predict(formulas)`` returns, per
    formula, up to ``top_k`` candidate records ranked by CHGNet energy per atom
    (relaxed candidates first).

    Parameters
    ----------
    generators : sequence of str or generator objects, default ("template", "wyckoff")
        ``"template"`` (:class:`TemplateGenerator`), ``"wyckoff"``
        (:class:`WyckoffGenerator`), ``"random"`` (:class:`RandomGenerator`) or
        configured instances. The candidate budget is split evenly; what one
        generator cannot fill passes to the next.
    energy_model : "chgnet" or callable, default "chgnet"
        Maps a list of Structures to energies per atom (eV/atom).
    n_candidates : int
        Candidates generated per formula.
    n_train : int
        Candidates evaluated with the energy model to fit the per-system
        surrogate: every ideal template substitution, plus random other
        candidates up to this number.
    n_screen : int
        Candidates with the lowest surrogate energy that are then evaluated
        with the energy model (without surrogate: a random draw of this many more).
    top_k : int
        Length of each returned ranking.
    surrogate : bool
        Screen with the per-system surrogate; False evaluates a random subset
        of the same size instead.
    relax : bool
        Relax the ``n_relax`` best candidates with CHGNet (needs energy_model="chgnet").
    n_relax : int, optional
        Candidates relaxed, defaults to ``top_k``: taken in turn from each
        generator's lowest single-point energies, near-duplicates skipped.
    relax_steps, fmax : int, float
        Relaxation cap and force criterion.
    n_prerelax, prerelax_steps : int
        Before choosing what to relax, the ``n_prerelax`` best distinct
        candidates get ``prerelax_steps`` relaxation steps and are re-ranked by
        the energy they reach. Unrelaxed energies punish a substituted template
        whose cell shape is off (a layered crystal's interlayer distance, say)
        far more than its relaxed energy warrants; a few steps fix most of
        that. 0 turns it off.
    volume_scan : sequence of float
        Volume factors tried, by single-point energies, on each ideal template
        substitution that is evaluated; the lowest-energy volume is kept. Empty
        to trust the volume model.
    prototypes : bool
        Add pymatgen's AFLOW prototype library to the fitted templates.
    exclude_formulas : sequence of str, optional
        Reduced formulas whose structures never become templates nor enter the
        space-group prior (leave-one-out benchmarks: the targets themselves).
    n_jobs : int, optional
        Formulas predicted in parallel (joblib processes).
    random_state : int, optional
        Each formula's candidates come from a seed of (random_state, formula),
        so a prediction does not depend on the other formulas of the batch.
    device : str
    verbose : bool
        tqdm progress bar over formulas.

    Attributes
    ----------
    templates_ : TemplateStore
    generators_ : list of fitted generators
    volume_model_ : VolumeModel

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> kcl = Structure.from_spacegroup("Fm-3m", Lattice.cubic(6.3), ["K", "Cl"],
    ...                                 [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> csp = ShotgunCSP(generators=["template"], n_candidates=4, relax=False,
    ...                  prototypes=False, random_state=0).fit([kcl])
    >>> best = csp.predict(["NaCl"])[0][0]
    >>> best.structure.composition.reduced_formula, best.template_id
    ('NaCl', 'ref-0')
    """

    def __init__(self, generators=("template", "wyckoff"), energy_model="chgnet",
                 n_candidates=200, n_train=40, n_screen=40, top_k=10, surrogate=True,
                 relax=True, n_relax=None, relax_steps=60, fmax=0.1, n_prerelax=0,
                 prerelax_steps=8,
                 volume_scan=(0.85, 1.0, 1.2, 1.45), prototypes=True,
                 exclude_formulas=(), n_jobs=None, random_state=None, device="cpu", verbose=False):
        self.generators = generators
        self.energy_model = energy_model
        self.n_candidates = n_candidates
        self.n_train = n_train
        self.n_screen = n_screen
        self.top_k = top_k
        self.surrogate = surrogate
        self.relax = relax
        self.n_relax = n_relax
        self.relax_steps = relax_steps
        self.n_prerelax = n_prerelax
        self.prerelax_steps = prerelax_steps
        self.fmax = fmax
        self.volume_scan = volume_scan
        self.prototypes = prototypes
        self.exclude_formulas = exclude_formulas
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def _check_params(self):
        for name in ("n_candidates", "top_k", "n_screen", "n_train", "relax_steps",
                     "n_prerelax", "prerelax_steps"):
            v = getattr(self, name)
            low = 1 if name in ("n_candidates", "top_k") else 0
            if not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        if self.relax and not (isinstance(self.energy_model, str)
                               and self.energy_model == "chgnet"):
            raise ValueError("relax=True needs energy_model='chgnet'")
        if isinstance(self.energy_model, str) and self.energy_model != "chgnet":
            raise ValueError("energy_model must be 'chgnet' or a callable, "
                             f"got {self.energy_model!r}")

    def _make_generators(self):
        gens = []
        for g in self.generators:
            if isinstance(g, str):
                if g not in GENERATORS:
                    raise ValueError(f"unknown generator {g!r}; choose from {sorted(GENERATORS)}")
                gens.append(GENERATORS[g]())
            else:
                gens.append(copy.deepcopy(g))
        if not gens:
            raise ValueError("generators is empty")
        return gens

    def fit(self, X, y=None):
        """Build the template store, space-group priors and volume model from Structures ``X``.

        ``X`` is a list (or pandas Series, whose index gives the template ids) of
        pymatgen Structures; ``y`` is ignored.
        """
        self._check_params()
        structures = _items(X)
        if not structures:
            raise ValueError("ShotgunCSP.fit needs at least one reference Structure "
                             "(the reference set is empty)")
        for i, s in enumerate(structures):
            if not isinstance(s, Structure):
                raise ValueError(f"X[{i}] is a {type(s).__name__}, not a pymatgen Structure")
        ids = ([str(i) for i in X.index] if hasattr(X, "index") and not isinstance(X, list)
               else [f"ref-{i}" for i in range(len(structures))])
        store = TemplateStore()
        if self.prototypes:
            store.add_aflow_prototypes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store.add_structures(structures, ids=ids, source="reference")
        if self.exclude_formulas:
            store = store.exclude_formulas(list(self.exclude_formulas))
        self.templates_ = store
        self.volume_model_ = VolumeModel("library")
        self.generators_ = [g.fit(store, self.volume_model_) for g in self._make_generators()]
        return self

    # -------------------------------------------------------------- predict
    def _energy(self):
        return CHGNetEnergy(device=self.device) if isinstance(self.energy_model, str) \
            else self.energy_model

    def _seed(self, comp: Composition) -> np.random.SeedSequence:
        base = 0 if self.random_state is None else int(self.random_state)
        if self.random_state is None:
            return np.random.SeedSequence()
        return np.random.SeedSequence([base, zlib.crc32(comp.reduced_formula.encode())])

    def _generate(self, comp, rng):
        cands, left, quota = [], self.n_candidates, {}
        for i, g in enumerate(self.generators_):
            want = left // (len(self.generators_) - i)
            got = g.generate(comp, want, rng) if want > 0 else []
            quota[g.name] = len(got)
            cands += got
            left -= len(got)
        return cands, quota

    def _predict_one(self, x, energy, relaxer):
        t0 = time.perf_counter()
        comp = _composition(x)
        rng = np.random.default_rng(self._seed(comp))
        cands, counts = self._generate(comp, rng)
        t_gen = time.perf_counter()
        details = {"formula": comp.reduced_formula, "generated": counts,
                   "n_candidates": len(cands), "n_energy": 0, "n_relaxed": 0}
        if not cands:  # never a silent empty result
            raise NoCandidatesError(
                f"no candidate structure for {comp.reduced_formula}: no template has its "
                f"stoichiometry pattern and the "
                f"{'/'.join(type(g).__name__ for g in self.generators_)} generators "
                "found no geometrically feasible crystal (try more n_candidates, other "
                "generators or more reference structures)")
        ideal = [i for i, c in enumerate(cands)
                 if c.generator == "template" and not c.info.get("perturbed")]
        rest = [i for i in range(len(cands)) if i not in set(ideal)]
        rng.shuffle(rest)
        # Every ideal template substitution is evaluated (with its volume scan),
        # plus random others up to n_train; the surrogate fitted on these energies
        # picks n_screen more from the remaining candidates.
        first = ideal + rest[:max(0, self.n_train - len(ideal))]
        pool = [i for i in ideal + rest if i not in set(first)]
        chosen = list(first)
        self._scan_volumes([cands[i] for i in first if i in set(ideal)], energy)
        if pool and self.n_screen > 0:
            if self.surrogate and len(first) >= 3:
                todo = [i for i in first if not np.isfinite(cands[i].energy_per_atom)]
                for i, e in zip(todo, energy([cands[i].structure for i in todo])):
                    cands[i].energy_per_atom = float(e)
                e_first = [cands[i].energy_per_atom for i in first]
                sur = SurrogateEnergy().fit([cands[i].structure for i in first], e_first)
                pred = sur.predict([cands[i].structure for i in pool])
                for i, p in zip(pool, pred):
                    cands[i].surrogate_energy = float(p)
                pool = [pool[j] for j in np.argsort(pred, kind="stable")]
            else:
                pool = [pool[j] for j in rng.permutation(len(pool))]
            chosen += pool[:self.n_screen]
        todo = [i for i in chosen if not np.isfinite(cands[i].energy_per_atom)]
        for i, e in zip(todo, energy([cands[i].structure for i in todo])):
            cands[i].energy_per_atom = float(e)
        details["n_energy"] = len(chosen)
        ranked = sorted((cands[i] for i in chosen), key=lambda c: c.energy_per_atom)
        ranked = [c for c in ranked if np.isfinite(c.energy_per_atom)]
        t_energy = time.perf_counter()
        details.update(generate_s=t_gen - t0, energy_s=t_energy - t_gen)
        if relaxer is not None:
            n_relax = self.top_k if self.n_relax is None else self.n_relax
            if self.n_prerelax > 0 and self.prerelax_steps > 0:
                for c in _diverse_head(ranked, self.n_prerelax):
                    try:
                        s, e, _ = relaxer.relax(c.structure, steps=self.prerelax_steps)
                    except Exception:  # noqa: BLE001 - left as it was
                        continue
                    c.info["unrelaxed_energy"] = c.energy_per_atom
                    c.structure, c.energy_per_atom, c.info["prerelaxed"] = s, e, True
                ranked = sorted(ranked, key=lambda c: c.energy_per_atom)
                details["n_prerelaxed"] = self.n_prerelax
            to_relax = _diverse_head(ranked, n_relax)
            rest = [c for c in ranked if not any(c is r for r in to_relax)]
            relaxed = []
            for c in to_relax:
                try:
                    s, e, steps = relaxer.relax(c.structure)
                except Exception as exc:  # noqa: BLE001 - an exploding cell is a bad candidate
                    c.info["relax_error"] = str(exc)
                    continue
                relaxed.append(Candidate(s, c.generator, c.template_id, c.substitution,
                                         c.space_group, e, True, c.surrogate_energy,
                                         {"unrelaxed_energy": c.energy_per_atom, **c.info,
                                          "relax_steps": steps}))
            details["n_relaxed"] = len(relaxed)
            ranked = sorted(relaxed, key=lambda c: c.energy_per_atom) + rest
        out = []
        for c in ranked:  # drop structures equal to a better-ranked one
            if len(out) >= self.top_k:
                break
            if not any(structure_match(c.structure, o.structure) for o in out):
                out.append(c)
        details["seconds"] = time.perf_counter() - t0
        return out, details

    def _scan_volumes(self, cands, energy):
        """Rescale each candidate to the volume factor with the lowest energy (in place)."""
        factors = [float(f) for f in self.volume_scan or ()]
        if len(factors) < 2 or not cands:
            return
        scaled = []
        for c in cands:
            for f in factors:
                s = c.structure.copy()
                s.scale_lattice(s.volume * f)
                scaled.append(s)
        E = np.asarray(energy(scaled)).reshape(len(cands), len(factors))
        for j, c in enumerate(cands):
            best = int(np.nanargmin(E[j])) if np.isfinite(E[j]).any() else factors.index(1.0)
            c.structure = scaled[j * len(factors) + best]
            c.energy_per_atom = float(E[j, best])
            c.info["volume_factor"] = factors[best]

    def predict(self, X, return_details=False):
        """Ranked candidates per formula (best first), each a :class:`Candidate`.

        Parameters
        ----------
        X : list of formulas, Compositions or Structures (their compositions are used)
        return_details : bool
            Also return, per formula, a dict with the candidates generated per
            generator, energy evaluations, relaxations and seconds.
        """
        check_is_fitted(self, "generators_")
        items = _items(X)
        comps = [_composition(x) for x in items]
        from tqdm.auto import tqdm

        def run(batch):
            energy = self._energy()
            relaxer = (CHGNetRelaxer(self.relax_steps, self.fmax, energy, self.device)
                       if self.relax else None)
            return [self._predict_one(c, energy, relaxer) for c in batch]

        if self.n_jobs in (None, 1) or len(comps) < 2:
            results = []
            energy = self._energy()
            relaxer = (CHGNetRelaxer(self.relax_steps, self.fmax, energy, self.device)
                       if self.relax else None)
            for c in tqdm(comps, disable=not self.verbose, desc="ShotgunCSP"):
                results.append(self._predict_one(c, energy, relaxer))
        else:
            from joblib import Parallel, delayed

            parts = Parallel(n_jobs=self.n_jobs)(delayed(run)([c]) for c in
                                                 tqdm(comps, disable=not self.verbose,
                                                      desc="ShotgunCSP"))
            results = [r for p in parts for r in p]
        ranked = [r[0] for r in results]
        return (ranked, [r[1] for r in results]) if return_details else ranked

    def score(self, X, y, k=None):
        """Top-k success rate: the fraction of formulas whose true structure ``y[i]`` is matched
        by one of their first ``k`` candidates (``k`` defaults to ``top_k``)."""
        k = self.top_k if k is None else k
        ranked = self.predict(X)
        trues = _items(y)
        if len(trues) != len(ranked):
            raise ValueError(f"{len(trues)} true structures for {len(ranked)} formulas")
        return float(np.mean([first_match_rank(r[:k], t) is not None
                              for r, t in zip(ranked, trues)]))
