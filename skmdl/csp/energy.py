"""Energies of candidate crystals: CHGNet (accurate) and a per-system surrogate (fast).

ShotgunCSP screens thousands of unrelaxed candidates with a cheap model
trained, per target system, on a few accurate energies of that system's own
candidates (the transfer step: the universal potential's knowledge moved into a
small system-specific model). Here the accurate model is the pretrained CHGNet
(single points, batched) and the surrogate is kernel ridge regression on a
species-resolved radial distribution fingerprint.
"""

from __future__ import annotations

import io
import itertools
import warnings
from contextlib import redirect_stdout
from functools import lru_cache

import numpy as np
from pymatgen.core import Structure


@lru_cache(maxsize=2)
def _load_chgnet(device):
    """The pretrained CHGNet, loaded once per process and device."""
    from chgnet.model import CHGNet

    with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return CHGNet.load(verbose=False, use_device=device)


class CHGNetEnergy:
    """CHGNet energy per atom (eV/atom) of structures, single points in batches.

    A structure CHGNet refuses (an atom with no neighbour within its 6 Å graph
    cutoff) gets NaN, which ranking and the volume scan skip, instead of
    ending the whole prediction.

    The pretrained model is loaded on first use (weights ship with chgnet; no
    download) and is not pickled.

    Parameters
    ----------
    batch_size : int
        Structures per batch at most.
    max_batch_atoms : int
        Atoms per batch at most (a larger structure goes alone): sixteen dense
        60-atom cells in one batch took gigabytes of graph memory.
    device : str
        ``"cpu"`` or ``"cuda"``.
    """

    def __init__(self, batch_size=16, max_batch_atoms=240, device="cpu"):
        self.batch_size = batch_size
        self.max_batch_atoms = max_batch_atoms
        self.device = device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = _load_chgnet(self.device)
        return self._model

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"] = None
        return state

    def __repr__(self):
        return (f"CHGNetEnergy(batch_size={self.batch_size}, "
                f"max_batch_atoms={self.max_batch_atoms}, device={self.device!r})")

    def __call__(self, structures) -> np.ndarray:
        structures = [getattr(s, "structure", s) for s in structures]
        if not structures:
            return np.empty(0)
        out = []
        # chgnet builds the graphs of every structure it is given before batching: a
        # thousand candidates at once took gigabytes, so hand it one batch at a time
        for chunk in _batches(structures, self.batch_size, self.max_batch_atoms):
            try:
                out += self._predict(chunk)
            except ValueError:  # e.g. isolated atoms: one by one, NaN for those refused
                out += [self._predict_or_nan(st) for st in chunk]
        return np.array(out)

    def _predict(self, chunk) -> list:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            preds = self.model.predict_structure(chunk, task="e", batch_size=self.batch_size)
        preds = preds if isinstance(preds, list) else [preds]
        return [float(np.asarray(p["e"]).reshape(-1)[0]) for p in preds]

    def _predict_or_nan(self, structure) -> float:
        """One structure's energy, NaN where CHGNet refuses it (an atom with no
        neighbour within its graph cutoff: a volume scan past a layered crystal's gap)."""
        try:
            return self._predict([structure])[0]
        except ValueError as exc:
            if "isolated" not in str(exc):
                raise
            return float("nan")


def _batches(structures, max_structures, max_atoms):
    """Consecutive runs of ``structures`` within both limits (one structure at least).

    >>> from pymatgen.core import Lattice, Structure
    >>> s = lambda n: Structure(Lattice.cubic(3.0 * n), ["Na"] * n, [[i / n, 0, 0] for i in range(n)])
    >>> [len(b) for b in _batches([s(2), s(2), s(5), s(9), s(1)], 16, 8)]
    [2, 1, 1, 1]
    """
    batch, atoms = [], 0
    for st in structures:
        if batch and (len(batch) >= max_structures or atoms + len(st) > max_atoms):
            yield batch
            batch, atoms = [], 0
        batch.append(st)
        atoms += len(st)
    if batch:
        yield batch


def rdf_fingerprint(structure: Structure, elements, r_max=6.0, n_bins=24, width=0.25):
    """Species-pair radial distribution (Gaussian-smeared counts per atom) + volume per atom.

    One block of ``n_bins`` per unordered element pair of ``elements``, so every
    structure of one chemical system gets a vector of the same length.
    """
    elements = sorted(str(e) for e in elements)
    pairs = {p: i for i, p in enumerate(itertools.combinations_with_replacement(elements, 2))}
    centers = np.linspace(0.5, r_max, n_bins)
    out = np.zeros((len(pairs), n_bins))
    ci, ni, _, d = structure.get_neighbor_list(r_max)
    if len(d):
        code = {e: i for i, e in enumerate(elements)}
        z = np.array([code[sp.symbol] for sp in structure.species])
        lo, hi = np.minimum(z[ci], z[ni]), np.maximum(z[ci], z[ni])
        pair_row = np.full((len(elements), len(elements)), -1)
        for (x, y), i in pairs.items():
            pair_row[code[x], code[y]] = i
        rows = pair_row[lo, hi]
        g = np.exp(-0.5 * ((d[:, None] - centers[None, :]) / width) ** 2)
        np.add.at(out, rows, g)
    out /= len(structure)
    return np.concatenate([out.ravel(), [structure.volume / len(structure)]])


class SurrogateEnergy:
    """Kernel ridge on :func:`rdf_fingerprint`, fitted on one system's accurate energies.

    Parameters
    ----------
    alphas : sequence of float
        Ridge penalties tried by leave-one-out-free 3-fold CV (the best is kept).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = Structure(Lattice.cubic(3.0), ["Si", "Si"], [[0, 0, 0], [0.25, 0.25, 0.25]])
    >>> S = [base.copy() for _ in range(12)]
    >>> S = [s.perturb(0.2) for s in S]
    >>> E = [s.volume for s in S]                     # any target values
    >>> sur = SurrogateEnergy().fit(S, E)
    >>> sur.predict(S[:2]).shape
    (2,)
    """

    def __init__(self, alphas=(1e-3, 1e-2, 1e-1, 1.0)):
        self.alphas = alphas

    def _X(self, structures):
        return np.array([rdf_fingerprint(getattr(s, "structure", s), self.elements_)
                         for s in structures])

    def fit(self, structures, energies):
        from sklearn.kernel_ridge import KernelRidge
        from sklearn.model_selection import GridSearchCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        structures = list(structures)
        y = np.asarray(energies, dtype=float)
        if len(structures) != len(y) or len(y) < 3:
            raise ValueError(f"need ≥ 3 structures with one energy each, got {len(structures)} "
                             f"structures and {len(y)} energies")
        self.elements_ = sorted({str(e) for s in structures
                                 for e in getattr(s, "structure", s).composition})
        X = self._X(structures)
        pipe = make_pipeline(StandardScaler(), KernelRidge(kernel="rbf",
                                                           gamma=1.0 / max(X.shape[1], 1)))
        cv = min(3, len(y))
        self.model_ = GridSearchCV(pipe, {"kernelridge__alpha": list(self.alphas)}, cv=cv,
                                   scoring="neg_mean_absolute_error").fit(X, y)
        self.offset_ = 0.0
        return self

    def predict(self, structures) -> np.ndarray:
        structures = list(structures)
        if not structures:
            return np.empty(0)
        return self.model_.predict(self._X(structures))


class PretrainedSurrogate:
    """The library's crystal formation-energy models, transferred to one system's energies.

    The paper's screen: a pretrained structure energy model adapted to the
    target system. A :class:`~skmdl.transfer.TransferRegressor` on the
    structure sources of the model library whose quantity is the formation
    energy (the embedded ``mp2018_e_form`` networks, orbital-field-matrix
    inputs), fitted on the candidates' accurate energies per atom. All
    candidates of one formula share their composition, so their energy per
    atom is their formation energy plus a constant: the delta and affine
    members of the transfer estimator model exactly that, and its direct
    model (the head on the descriptors alone) stays a candidate, so the
    screen is never worse in inner CV than one without the sources.

    Parameters
    ----------
    library : None, str, Path or ModelLibrary
        Where the sources come from (None: the embedded library).
    quantity : str
        Quantity of the sources used.
    random_state : int, optional

    Attributes
    ----------
    model_ : TransferRegressor
    n_skipped_ : int
        Structures left out of the fit because two of their sites overlap
        (:func:`describable`); :meth:`predict` gives them ``inf``.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> S = [Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"],
    ...                                [[0, 0, 0], [0.5, 0.5, 0.5]])
    ...      for a in np.linspace(5.0, 6.2, 12)]
    >>> E = [(s.lattice.a - 5.6) ** 2 - 3.0 for s in S]   # any energies of one system
    >>> sur = PretrainedSurrogate().fit(S[::2], E[::2])
    >>> sur.predict(S[1::2]).shape, sur.model_.sources_[0].startswith("mp2018_e_form")
    ((6,), True)
    """

    def __init__(self, library=None, quantity="formation energy", random_state=0):
        self.library = library
        self.quantity = quantity
        self.random_state = random_state

    def fit(self, structures, energies):
        from ..descriptors.structure import MIN_DISTANCE
        from ..transfer import TransferRegressor
        from ..transfer.featurizer import resolve_library

        structures = [getattr(s, "structure", s) for s in structures]
        y = np.asarray(energies, dtype=float)
        if len(structures) != len(y):
            raise ValueError(f"need one energy per structure, got {len(structures)} "
                             f"structures and {len(y)} energies")
        keep = describable(structures)
        self.n_skipped_ = int((~keep).sum())
        structures, y = [s for s, k in zip(structures, keep) if k], y[keep]
        if len(y) < 6:
            raise ValueError(f"need ≥ 6 structures without overlapping atoms (closer than "
                             f"{MIN_DISTANCE} Å), got {len(y)} ({self.n_skipped_} skipped)")
        lib = resolve_library(self.library)
        ids = list(lib.search(kind="structure", quantity=self.quantity)["id"])
        if not ids:
            raise ValueError(f"the model library {lib.name!r} has no crystal-structure "
                             f"source of quantity {self.quantity!r}")
        cv = min(5, len(y) // 3)
        self.model_ = TransferRegressor(
            sources=ids, library=lib, n_sources=len(ids), kind="structure",
            quantity=self.quantity, screening_cv=cv, calibration_cv=cv,
            random_state=self.random_state).fit(structures, y)
        return self

    def predict(self, structures) -> np.ndarray:
        structures = [getattr(s, "structure", s) for s in structures]
        pred = np.full(len(structures), np.inf)
        keep = describable(structures)
        if keep.any():
            pred[keep] = self.model_.predict([s for s, k in zip(structures, keep) if k])
        return pred


def describable(structures) -> np.ndarray:
    """Mask of the structures the crystal-structure descriptors accept: no two sites
    closer than :data:`~skmdl.descriptors.structure.MIN_DISTANCE` (a candidate with
    overlapping atoms still gets its CHGNet energy, but no descriptor row).

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> ok = Structure(Lattice.cubic(3.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> bad = Structure(Lattice.cubic(3.0), ["Na", "Cl"], [[0, 0, 0], [0.05, 0, 0]])
    >>> describable([ok, bad]).tolist()
    [True, False]
    """
    from ..descriptors.structure import MIN_DISTANCE

    return np.array([s.is_valid(tol=MIN_DISTANCE) for s in structures], dtype=bool)


def screen_model(surrogate, structures):
    """The unfitted per-system screen named by ``ShotgunCSP(surrogate=...)``, or None
    for a random draw: ``"none"`` / False, or too few of the ``structures`` with
    energies to fit on (3 for kernel ridge; 6 for the pretrained screen's inner CV,
    counting only those its descriptors accept, :func:`describable`)."""
    kind = {True: "kernel_ridge", False: "none"}.get(surrogate, surrogate)
    if kind == "pretrained" and describable(structures).sum() >= 6:
        return PretrainedSurrogate(random_state=0)
    if kind == "kernel_ridge" and len(structures) >= 3:
        return SurrogateEnergy()
    return None
