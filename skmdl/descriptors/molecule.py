"""Molecule and polymer descriptors from SMILES strings or RDKit ``Mol`` objects.

Three featurizers share one input path (:class:`_MoleculeFeaturizer`): each
distinct input is parsed once (RDKit's own error logging silenced), optionally
turned from a polymer repeat unit into a molecule (``polymer=``), and
featurized; bad inputs raise a ``ValueError`` naming the SMILES and its row,
or give NaN rows with ``errors="nan"``.

Polymer repeat units are SMILES with two ``*`` connection points
(``*CC(*)c1ccccc1`` is polystyrene). A featurizer applied to the bare repeat
unit sees two dummy atoms and the chain ends they stand for; ``polymer=``
replaces them by chemistry instead:

* ``"cyclize"``: ``n_repeat`` units joined head to tail and the chain closed
  into a ring. Nothing is left of the chain ends, and the result does not
  depend on where the repeat unit was cut (``*CCO*``, ``*COC*`` and ``*OCC*``
  are the same polymer and give the same ring). Conjugated units can
  aromatize (``*C=C*`` gives benzene), and RDKit descriptors that enumerate
  ring systems get slow on macrocycles through fused rings.
* ``"oligomer"``: ``n_repeat`` units joined head to tail, both ends capped
  with hydrogen (the ends are diluted, not removed).
* ``"cap"``: the single repeat unit with both ``*`` replaced by hydrogen
  (as many H as the bond order). Cheapest; used by skmdl's polymer source
  models because the full RDKit set costs ~10-25x more on a trimer (see
  :mod:`skmdl.library.recipes_organic`).

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
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..utils._base import (FeatureNamesMixin, MaterialsInputMixin, as_item_list,
                           report_item_errors)
from .composition import _errors_by_row, _factorize

#: Magnitude above which a descriptor value becomes NaN. Only ``Ipc`` of
#: large molecules gets there (1e20-1e40 for polymer repeat units); 1e15
#: keeps float32 sums of squares over millions of rows finite
#: (standardization and variances of source-model inputs are float32).
MAX_MAGNITUDE = 1e15
POLYMER_MODES = ("cyclize", "oligomer", "cap")
#: distinct inputs from which ``n_jobs`` != 1 featurizes in parallel processes
_PARALLEL_MIN = 2000


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


class MoleculeError(ValueError):
    """A SMILES that cannot be parsed, or a repeat unit that cannot be polymerized."""


def rdkit_descriptor_names() -> list:
    """Names of RDKit's 2D descriptors (``rdkit.Chem.Descriptors._descList``), in order."""
    from rdkit.Chem import Descriptors

    return [name for name, _ in Descriptors._descList]


def _as_items(X) -> list:
    """Inputs as a Python list, without coercing them through numpy."""
    if isinstance(X, str):
        raise ValueError("expected a sequence of SMILES, got a single string; wrap it in a list")
    if type(X).__name__ == "Mol":
        raise ValueError("expected a sequence of molecules, got a single Mol; wrap it in a list")
    return as_item_list(X, "SMILES")


# ---------------------------------------------------------------- parsing

def parse_molecule(item):
    """RDKit ``Mol`` of a SMILES string, or a sanitized copy of a ``Mol``.

    ``MoleculeError`` if it is invalid. RDKit's parser messages are not
    printed (the error says what failed).
    """
    from rdkit import Chem, rdBase

    if isinstance(item, Chem.Mol):  # RWMol too
        # a Mol built with sanitize=False (bad valences, unkekulizable rings, no implicit
        # H computed) makes the fingerprint generators raise RuntimeError
        mol = Chem.Mol(item)
        with rdBase.BlockLogs():
            try:
                Chem.SanitizeMol(mol)
            except Exception as exc:  # RDKit raises several (Boost-wrapped) types
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise MoleculeError(f"RDKit cannot sanitize this molecule ({reason})") from None
        return mol
    if not isinstance(item, str):
        raise MoleculeError(f"expected a SMILES string or an RDKit Mol, got {type(item).__name__}")
    if not item.strip():
        raise MoleculeError("empty SMILES")
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(item)
    if mol is None:
        raise MoleculeError("RDKit cannot parse this SMILES")
    return mol


def _connection_points(mol):
    """(head star, tail star, head neighbour, tail neighbour, bond type) of a repeat unit."""
    stars = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if len(stars) != 2:
        raise MoleculeError(f"a polymer repeat unit needs exactly 2 '*' connection points, "
                            f"found {len(stars)}")
    nbrs = []
    for s in stars:
        atom = mol.GetAtomWithIdx(s)
        if atom.GetDegree() != 1:
            raise MoleculeError(f"a '*' must have exactly one neighbour, one has {atom.GetDegree()}")
        nb = atom.GetNeighbors()[0]
        if nb.GetAtomicNum() == 0:
            raise MoleculeError("the two '*' are bonded to each other")
        nbrs.append(nb.GetIdx())
    bond = mol.GetBondBetweenAtoms(stars[1], nbrs[1]).GetBondType()
    return stars[0], stars[1], nbrs[0], nbrs[1], bond


def polymerize(mol, mode="cyclize", n_repeat=3):
    """Molecule standing for the polymer of a repeat unit with two ``*`` connection points.

    Parameters
    ----------
    mol : rdkit Mol
        The repeat unit (``[*]``, ``[1*]`` and ``[*:1]`` spellings are all
        connection points).
    mode : {"cyclize", "oligomer", "cap"}
        Ring of ``n_repeat`` units, H-capped chain of ``n_repeat`` units, or
        the H-capped single unit.
    n_repeat : int

    Returns
    -------
    Mol
        Sanitized and canonical (parsed back from its canonical SMILES), so
        equal polymers give identical features whatever their atom order.
        Stereochemistry is dropped: one repeat unit does not define the
        tacticity of the chain.

    Raises
    ------
    MoleculeError
        Not exactly two ``*``, a ``*`` with several neighbours, or a ring too
        small to build (``cyclize`` needs at least 3 backbone atoms).
    """
    from rdkit import Chem

    head, tail, h_nb, t_nb, bond = _connection_points(mol)
    n = 1 if mode == "cap" else int(n_repeat)
    if mode == "cyclize":
        backbone = len(Chem.GetShortestPath(mol, h_nb, t_nb)) if h_nb != t_nb else 1
        if n * backbone < 3:
            raise MoleculeError(f"cyclize: a ring of {n} unit(s) has {n * backbone} backbone "
                                f"atom(s), at least 3 are needed; increase n_repeat")
    mol = Chem.Mol(mol)
    Chem.RemoveStereochemistry(mol)
    size = mol.GetNumAtoms()
    combined = mol
    for _ in range(n - 1):
        combined = Chem.CombineMols(combined, mol)
    rw = Chem.RWMol(combined)
    for i in range(n - 1):
        rw.AddBond(i * size + t_nb, (i + 1) * size + h_nb, bond)
    remove = [i * size + tail for i in range(n - 1)] + [(i + 1) * size + head for i in range(n - 1)]
    ends = [head, (n - 1) * size + tail]
    if mode == "cyclize":
        rw.AddBond((n - 1) * size + t_nb, h_nb, bond)
        remove += ends
    else:
        # hydrogen caps: the end atoms get as many H as the bond order to their '*'
        # (implicit for organic-subset atoms; explicit for bracket atoms like [Si], [nH])
        for idx in ends:
            star = rw.GetAtomWithIdx(idx)
            nb = star.GetNeighbors()[0]
            if nb.GetNoImplicit() or (nb.GetIsAromatic() and nb.GetAtomicNum() != 6):
                order = int(rw.GetBondBetweenAtoms(idx, nb.GetIdx()).GetBondTypeAsDouble())
                nb.SetNumExplicitHs(nb.GetNumExplicitHs() + order)
        remove += ends
    for idx in sorted(remove, reverse=True):
        rw.RemoveAtom(idx)
    from rdkit import rdBase

    with rdBase.BlockLogs():
        try:
            out = rw.GetMol()
            Chem.SanitizeMol(out)
            smiles = Chem.MolToSmiles(out)
        except Exception as exc:  # RDKit raises several (Boost-wrapped) types
            raise MoleculeError(f"{mode} gives an invalid molecule ({exc})") from None
        canonical = Chem.MolFromSmiles(smiles)
    if canonical is None:
        raise MoleculeError(f"{mode} gives an invalid molecule ({smiles})")
    return canonical


# ---------------------------------------------------------------- base class

class _MoleculeFeaturizer(MaterialsInputMixin, FeatureNamesMixin, TransformerMixin,
                          BaseEstimator):
    """Shared input handling of the molecule featurizers (see :class:`RDKitDescriptors`)."""

    _parameter_constraints = {
        "polymer": [None, StrOptions(set(POLYMER_MODES))],
        "n_repeat": [Interval(Integral, 1, None, closed="left")],
        "errors": [StrOptions({"raise", "nan"})],
        "n_jobs": [Integral, None],
    }

    def _names(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _values(self, mol, state) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _prepare(self):
        """Per-call state of ``_values`` (RDKit generators cannot be pickled)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters and fix the output features.

        ``X`` is not used for learning (the featurizer is stateless) but is
        accepted for the pipeline API.
        """
        import rdkit

        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        self.rdkit_version_ = rdkit.__version__
        params = self.get_params(deep=False)
        self._cache_key = (type(self).__name__, rdkit.__version__, repr(sorted(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()
            if k not in ("errors", "n_jobs"))))
        return self

    def _mol(self, item):
        mol = parse_molecule(item)
        if self.polymer is not None:
            mol = polymerize(mol, self.polymer, self.n_repeat)
        return mol

    def _featurize_distinct(self, uniques):
        """Features of distinct inputs: (matrix, {position: error message})."""
        state = self._prepare()
        U = np.full((len(uniques), len(self.feature_names_out_)), np.nan)
        errors = {}
        for k, item in enumerate(uniques):
            try:
                mol = self._mol(item)
            except MoleculeError as exc:
                errors[k] = str(exc)
                continue
            U[k] = self._values(mol, state)
        return U, errors

    def transform(self, X):
        """Featurize molecules (or polymer repeat units).

        Parameters
        ----------
        X : list, tuple, pandas Series or 1-column DataFrame
            SMILES strings or RDKit ``Mol`` objects.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self, "feature_names_out_")
        items = _as_items(X)
        uniques, codes = _factorize(items)
        U = np.full((len(uniques), len(self.feature_names_out_)), np.nan)
        errors, todo = {}, []
        for k, item in enumerate(uniques):  # SMILES featurized before: from the cache
            row = _FEATURE_CACHE.get((self._cache_key, item)) if isinstance(item, str) else None
            if row is None:
                todo.append(k)
            elif isinstance(row, str):
                errors[k] = row
            else:
                U[k] = row
        if todo:
            V, new_errors = self._featurize_all([uniques[k] for k in todo])
            U[todo] = V
            for j, k in enumerate(todo):
                msg = new_errors.get(j)
                if msg is not None:
                    errors[k] = msg
                if isinstance(uniques[k], str):
                    _FEATURE_CACHE.put((self._cache_key, uniques[k]),
                                       msg if msg is not None else V[j].copy())
        if errors:
            self._report_errors(errors, codes, items)
        return U[codes]

    def _featurize_all(self, uniques):
        """``_featurize_distinct`` in joblib workers for many inputs when ``n_jobs`` != 1."""
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        if n_jobs == 1 or len(uniques) < _PARALLEL_MIN:
            return self._featurize_distinct(uniques)
        chunks = np.array_split(np.arange(len(uniques)), 2 * (n_jobs if n_jobs > 0 else 4))
        results = Parallel(n_jobs=n_jobs)(
            delayed(self._featurize_distinct)([uniques[i] for i in c]) for c in chunks)
        U = np.vstack([r[0] for r in results])
        errors = {int(c[k]): m for c, (_, err) in zip(chunks, results) for k, m in err.items()}
        return U, errors

    def _report_errors(self, errors, codes, items):
        def shown(item):
            smiles = _smiles_of(item) if hasattr(item, "GetNumAtoms") else item
            return f"SMILES {smiles!r}"

        report_item_errors(_errors_by_row(errors, codes), items, self.errors, shown,
                           "molecules", stacklevel=3)


def _smiles_of(mol):
    from rdkit import Chem

    try:
        return Chem.MolToSmiles(mol)
    except Exception:  # a Mol RDKit cannot write
        return repr(mol)


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
        ``ValueError`` naming the SMILES and its row, or return a row of NaN
        and warn with the count.
    n_jobs : int, default=None
        Parallel worker processes (joblib) for inputs with at least 2,000
        distinct molecules; ``None`` means 1. Results do not depend on it."""


class RDKitDescriptors(_MoleculeFeaturizer):
    __doc__ = f"""RDKit's 2D molecular descriptors (``rdkit.Chem.Descriptors``).

    Parameters
    ----------
    descriptors : list of str or None, default=None
        Names from ``rdkit.Chem.Descriptors._descList`` (see
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
        self.polymer = polymer
        self.n_repeat = n_repeat
        self.errors = errors
        self.n_jobs = n_jobs

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

        table = dict(Descriptors._descList)
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
        self.polymer = polymer
        self.n_repeat = n_repeat
        self.errors = errors
        self.n_jobs = n_jobs

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
        self.polymer = polymer
        self.n_repeat = n_repeat
        self.errors = errors
        self.n_jobs = n_jobs

    def _names(self):
        return [f"maccs_{i}" for i in range(167)]

    def _values(self, mol, state):
        from rdkit.Chem import MACCSkeys

        return np.array(list(MACCSkeys.GenMACCSKeys(mol)), dtype=np.float64)
