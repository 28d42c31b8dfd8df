"""Molecule and polymer descriptors from SMILES strings or RDKit ``Mol`` objects.

Three featurizers share one input path (:class:`_MoleculeFeaturizer`): each
distinct input is parsed once (RDKit's own error logging silenced), optionally
turned from a polymer repeat unit into a molecule (``polymer=``), and
featurized; bad inputs raise a :class:`~skmdl.exceptions.MoleculeError`
naming the SMILES and its row, or give NaN rows with ``errors="nan"``.

Polymer repeat units (SMILES with two ``*`` connection points) are turned
into molecules by ``polymer=`` ("cyclize", "oligomer" or "cap"; see
:mod:`skmdl.descriptors._molecules`).

SMILES strings featurized before in the same process, with the same
settings, are taken from a bounded cache (see :class:`_FeatureCache`):
descriptors are a pure function of the SMILES, and transfer estimators and
cross-validation featurize the same molecules many times.

A keyword on the featurizers (rather than a separate polymer wrapper) keeps
one estimator per descriptor, and puts the polymer handling in the
descriptor spec of a source model's card, so a library model rebuilds exactly
the featurizer it was trained with.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import _base
from ._molecules import (POLYMER_MODES, MoleculeError, parse_molecule, polymerize,
                         rdkit_descriptor_names, smiles_of)

__all__ = ["MACCSKeys", "MoleculeError", "MorganFingerprint", "POLYMER_MODES",
           "RDKitDescriptors", "parse_molecule", "polymerize", "rdkit_descriptor_names"]

#: Magnitude above which a descriptor value becomes NaN. Only ``Ipc`` of
#: large molecules gets there (1e20-1e40 for polymer repeat units); 1e15
#: keeps float32 sums of squares over millions of rows finite
#: (standardization and variances of source-model inputs are float32).
MAX_MAGNITUDE = 1e15
#: distinct inputs from which ``n_jobs`` != 1 featurizes in parallel processes
PARALLEL_MIN = 2000


class _FeatureCache:
    """Process-wide LRU memo of the features of SMILES strings, per featurizer setting.

    RDKit descriptors cost ~10-100 ms per molecule, and a SMILES is often
    featurized again and again with the same settings: ``fit`` then
    ``predict``, cross-validation folds, every screened source model of a
    transfer estimator. Features are a pure function of (featurizer class,
    parameters, SMILES), so reusing them changes no result. Bounded to
    ``size`` rows (about 35 MB of RDKit descriptors).
    """

    def __init__(self, size=20_000):
        from collections import OrderedDict

        self.size = size
        self._rows = OrderedDict()

    def get(self, key):
        row = self._rows.get(key)
        if row is not None:
            self._rows.move_to_end(key)
        return row

    def put(self, key, row):
        self._rows[key] = row
        if len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def clear(self):
        self._rows.clear()


_FEATURE_CACHE = _FeatureCache()


# ---------------------------------------------------------------- base class

class _MoleculeFeaturizer(_base.ParallelFeaturizer):
    """Shared input handling of the molecule featurizers (see :class:`RDKitDescriptors`).

    Subclasses implement ``_names()`` (the feature names), ``_values(mol,
    state)`` (one molecule's features) and optionally ``_prepare()`` (the
    per-call ``state``).
    """

    _parameter_constraints = {
        **_base.ParallelFeaturizer._parameter_constraints,
        "polymer": [None, StrOptions(set(POLYMER_MODES))],
        "n_repeat": [Interval(Integral, 1, None, closed="left")],
    }
    _noun = "molecules"
    _item_error = MoleculeError
    _parallel_min = PARALLEL_MIN

    def __init__(self, *, polymer=None, n_repeat=3, errors="raise", n_jobs=None):
        self.polymer = polymer
        self.n_repeat = n_repeat
        super().__init__(errors=errors, n_jobs=n_jobs)

    @classmethod
    def _is_single_item(cls, X) -> bool:
        return isinstance(X, str) or type(X).__name__ in ("Mol", "RWMol")

    def _describe(self, item) -> str:
        return f"SMILES {smiles_of(item) if hasattr(item, 'GetNumAtoms') else item!r}"

    def _names(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _values(self, mol, state) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare(self):
        """Per-call state of ``_values`` (RDKit generators cannot be pickled)."""

    def _fit(self, X):
        """Fix the output features and the cache key of the settings."""
        import rdkit

        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        self.rdkit_version_ = rdkit.__version__
        params = self.get_params(deep=False)
        self._cache_key = (type(self).__name__, rdkit.__version__, repr(sorted(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()
            if k not in ("errors", "n_jobs"))))

    def _mol(self, item):
        mol = parse_molecule(item)
        if self.polymer is not None:
            mol = polymerize(mol, self.polymer, self.n_repeat)
        return mol

    def _featurize_chunk(self, uniques):
        """Features of distinct inputs: (matrix, {position: reason})."""
        state = self._prepare()
        U = self._empty(len(uniques))
        errors = {}
        for k, item in enumerate(uniques):
            try:
                mol = self._mol(item)
            except MoleculeError as exc:
                errors[k] = exc.reason
                continue
            U[k] = self._values(mol, state)
        return U, errors

    def _featurize(self, uniques):
        """Features of distinct inputs, SMILES featurized before taken from the cache."""
        U = self._empty(len(uniques))
        errors, todo = {}, []
        for k, item in enumerate(uniques):
            row = _FEATURE_CACHE.get((self._cache_key, item)) if isinstance(item, str) else None
            if row is None:
                todo.append(k)
            elif isinstance(row, str):
                errors[k] = row
            else:
                U[k] = row
        if todo:
            V, new_errors = super()._featurize([uniques[k] for k in todo])
            U[todo] = V
            for j, k in enumerate(todo):
                reason = new_errors.get(j)
                if reason is not None:
                    errors[k] = reason
                if isinstance(uniques[k], str):
                    _FEATURE_CACHE.put((self._cache_key, uniques[k]),
                                       reason if reason is not None else V[j].copy())
        return U, errors


_POLYMER_DOC = """\
    polymer : {"cyclize", "oligomer", "cap"} or None, default=None
        Inputs are polymer repeat units with two ``*`` connection points:
        ``"cyclize"`` featurizes a ring of ``n_repeat`` units (no chain ends;
        independent of where the unit was cut), ``"oligomer"`` a chain of
        ``n_repeat`` units capped with hydrogen, ``"cap"`` the single unit
        capped with hydrogen. ``None``: inputs are molecules (a ``*`` is
        kept as an RDKit dummy atom). See the module docstring.
    n_repeat : int, default=3
        Repeat units of the ``"cyclize"`` ring and the ``"oligomer"`` chain."""

_COMMON_DOC = """\
    errors : {"raise", "nan"}, default="raise"
        What to do with an invalid SMILES or repeat unit: raise a
        :class:`~skmdl.exceptions.MoleculeError` (a ``ValueError``) naming the
        SMILES and its row, or return a row of NaN and warn with a
        :class:`~skmdl.exceptions.FeaturizationWarning` carrying the count.
    n_jobs : int, default=None
        Parallel worker processes (joblib) for inputs with at least 2,000
        distinct molecules; ``None`` means 1. Results do not depend on it."""


class RDKitDescriptors(_MoleculeFeaturizer):
    __doc__ = f"""RDKit's 2D molecular descriptors (``rdkit.Chem.Descriptors``).

    Parameters
    ----------
    descriptors : list of str or None, default=None
        Names from ``rdkit.Chem.Descriptors.descList`` (see
        :func:`rdkit_descriptor_names`); ``None`` computes all of them, in
        RDKit's order.
{_POLYMER_DOC}
{_COMMON_DOC}

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The descriptor names.
    rdkit_version_ : str

    Notes
    -----
    Non-finite values are NaN, deterministically: a descriptor that raises,
    returns NaN or an infinity, or whose magnitude exceeds 1e15
    (``MAX_MAGNITUDE``; only ``Ipc`` of large molecules does, reaching 1e40
    for polymer repeat units: float32 sums of their squares would overflow)
    gives NaN. Gasteiger
    partial charges (and the BCUT2D descriptors built on them) are NaN for
    elements without Gasteiger parameters and for ``*`` dummy atoms. NaN is
    handled by HistGradientBoosting and by skmdl's source models (a NaN input
    is replaced by the training mean); impute it for other estimators.

    See Also
    --------
    MorganFingerprint, MACCSKeys

    Examples
    --------
    >>> from skmdl.descriptors import RDKitDescriptors
    >>> f = RDKitDescriptors(descriptors=["MolWt", "NumHDonors"]).fit()
    >>> f.transform(["CCO", "c1ccccc1"]).round(2).tolist()
    [[46.07, 1.0], [78.11, 0.0]]
    >>> p = RDKitDescriptors(descriptors=["HeavyAtomCount"], polymer="cyclize").fit()
    >>> p.transform(["*CC*", "*CCO*", "*OCC*"]).tolist()   # cyclohexane; 9-ring twice
    [[6.0], [9.0], [9.0]]
    """

    _parameter_constraints = {
        **_MoleculeFeaturizer._parameter_constraints,
        "descriptors": [None, list, tuple],
    }

    def __init__(self, descriptors=None, polymer=None, n_repeat=3, errors="raise", n_jobs=None):
        self.descriptors = descriptors
        super().__init__(polymer=polymer, n_repeat=n_repeat, errors=errors, n_jobs=n_jobs)

    def _names(self):
        known = rdkit_descriptor_names()
        if self.descriptors is None:
            return known
        names = list(self.descriptors)
        bad = [d for d in names if d not in set(known)]
        if bad or not names:
            raise ValueError(f"unknown RDKit descriptors {bad}; see "
                             "skmdl.descriptors.rdkit_descriptor_names()")
        return names

    def _prepare(self):
        from rdkit.Chem import Descriptors

        table = dict(Descriptors.descList)
        return [table[n] for n in self.feature_names_out_]

    def _values(self, mol, functions):
        out = np.empty(len(functions))
        for j, fn in enumerate(functions):
            try:
                v = float(fn(mol))
            except Exception:  # RDKit descriptors raise assorted types on odd molecules
                v = math.nan
            out[j] = v if math.isfinite(v) and abs(v) <= MAX_MAGNITUDE else math.nan
        return out


class MorganFingerprint(_MoleculeFeaturizer):
    __doc__ = f"""Morgan (ECFP-like) count fingerprint, folded to ``n_bits`` (RDKit rdFingerprintGenerator).

    Parameters
    ----------
    radius : int, default=2
        Radius of the atom environments (2 is ECFP4-like).
    n_bits : int, default=2048
        Length of the folded fingerprint.
    counts : bool, default=True
        Occurrence counts of each bit; ``False`` gives 0/1 bits.
{_POLYMER_DOC}
{_COMMON_DOC}

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``"morgan_{{i}}"``.
    rdkit_version_ : str

    Examples
    --------
    >>> from skmdl.descriptors import MorganFingerprint
    >>> f = MorganFingerprint(radius=1, n_bits=64).fit()
    >>> X = f.transform(["CCO", "CCCCCC"])
    >>> X.shape, X.sum(axis=1).tolist()   # one count per atom and radius
    ((2, 64), [6.0, 12.0])
    """

    _parameter_constraints = {
        **_MoleculeFeaturizer._parameter_constraints,
        "radius": [Interval(Integral, 0, None, closed="left")],
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "counts": ["boolean"],
    }

    def __init__(self, radius=2, n_bits=2048, counts=True, polymer=None, n_repeat=3,
                 errors="raise", n_jobs=None):
        self.radius = radius
        self.n_bits = n_bits
        self.counts = counts
        super().__init__(polymer=polymer, n_repeat=n_repeat, errors=errors, n_jobs=n_jobs)

    def _names(self):
        return [f"morgan_{i}" for i in range(self.n_bits)]

    def _prepare(self):
        from rdkit.Chem import rdFingerprintGenerator

        return rdFingerprintGenerator.GetMorganGenerator(radius=int(self.radius),
                                                         fpSize=int(self.n_bits))

    def _values(self, mol, generator):
        if self.counts:
            return generator.GetCountFingerprintAsNumPy(mol).astype(np.float64)
        return generator.GetFingerprintAsNumPy(mol).astype(np.float64)


class MACCSKeys(_MoleculeFeaturizer):
    __doc__ = f"""The 166 MACCS structural keys (RDKit ``MACCSkeys``), as 0/1 features.

    Parameters
    ----------
{_POLYMER_DOC}
{_COMMON_DOC}

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``"maccs_{{i}}"`` for i = 0..166 (RDKit's numbering; key 0 is unused
        and always 0).
    rdkit_version_ : str

    Examples
    --------
    >>> from skmdl.descriptors import MACCSKeys
    >>> X = MACCSKeys().fit().transform(["CCO"])
    >>> X.shape, int(X[0, 139])   # key 139: OH
    ((1, 167), 1)
    """

    def __init__(self, polymer=None, n_repeat=3, errors="raise", n_jobs=None):
        super().__init__(polymer=polymer, n_repeat=n_repeat, errors=errors, n_jobs=n_jobs)

    def _names(self):
        return [f"maccs_{i}" for i in range(167)]

    def _values(self, mol, state):
        from rdkit.Chem import MACCSkeys

        return np.array(list(MACCSkeys.GenMACCSKeys(mol)), dtype=np.float64)
