"""The errors and warnings skmdl raises about its inputs, as types callers can catch.

Callers read the attributes (``row``, ``item``, ``n_failed``), never the
message text: the command line numbers rows across chunks of a table with
:meth:`InvalidInputError.with_row`, and adds up :class:`FeaturizationWarning`
counts.

Every type subclasses what skmdl raised before it existed (``ValueError``,
``UserWarning``), so ``except ValueError`` keeps working.

Examples
--------
>>> from skmdl.descriptors import CompositionFeaturizer
>>> from skmdl.exceptions import FeaturizationWarning, InvalidInputError
>>> f = CompositionFeaturizer().fit()
>>> try:
...     f.transform(["NaCl", "Xx2"])
... except InvalidInputError as exc:
...     print(exc.row, exc.item, "|", exc.reason)
1 Xx2 | unknown element 'Xx'
>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     _ = CompositionFeaturizer(errors="nan").fit().transform(["NaCl", "Xx2", "Qq"])
>>> w = caught[0].message
>>> isinstance(w, FeaturizationWarning), w.n_failed, w.n_total, w.rows
(True, 2, 3, (1, 2))
"""

from __future__ import annotations

__all__ = ["FeaturizationWarning", "FormulaError", "InvalidInputError", "MoleculeError",
           "StructureError", "UnknownModelError"]


class InvalidInputError(ValueError):
    """An input item that cannot be used: a bad formula, an unknown element, an invalid
    SMILES, an unreadable CIF.

    Raised by the featurizers' ``transform`` (``errors="raise"``) for the first
    bad row; the parsers (:func:`~skmdl.descriptors.parse_formula`,
    :func:`~skmdl.descriptors.parse_molecule`) raise it without a row.

    Parameters
    ----------
    reason : str
        What is wrong with the item.
    item : object, default=None
        The input item as given (a formula, SMILES, ``Mol``, ``Structure``,
        CIF text or path); ``None`` when not known.
    row : int or None, default=None
        Row of the item in the input of ``transform``.
    label : str or None, default=None
        How the message names the item, e.g. ``"formula 'Xx2'"``; ``None``
        uses ``repr(item)``.

    Attributes
    ----------
    reason : str
    item : object
    row : int or None
    label : str

    Examples
    --------
    >>> exc = InvalidInputError("unknown element 'Xx'", item="Xx2", row=3,
    ...                         label="formula 'Xx2'")
    >>> str(exc)
    "cannot featurize formula 'Xx2' (row 3): unknown element 'Xx'"
    >>> exc.with_row(13).row
    13
    >>> str(InvalidInputError("empty formula"))
    'empty formula'
    """

    def __init__(self, reason, *, item=None, row=None, label=None):
        self.reason = str(reason)
        self.item = item
        self.row = None if row is None else int(row)
        self.label = repr(item) if label is None else str(label)
        super().__init__(self._message())

    def _message(self) -> str:
        if self.row is None:
            return self.reason
        return f"cannot featurize {self.label} (row {self.row}): {self.reason}"

    def with_row(self, row):
        """The same error, of the same type, naming row ``row`` instead.

        Parameters
        ----------
        row : int
            Row of the item in a larger input (a whole table instead of a chunk).

        Returns
        -------
        InvalidInputError
        """
        return type(self)(self.reason, item=self.item, row=row, label=self.label)

    def __reduce__(self):  # pickles (joblib workers) rebuild it from its attributes
        return _rebuild, (type(self), self.reason, self.item, self.row, self.label)


def _item_error(cls):
    """Add the parameters every :class:`InvalidInputError` subclass shares to its docstring."""
    head, sep, examples = cls.__doc__.partition("\n    Examples\n")
    cls.__doc__ = head.rstrip() + "\n" + _ITEM_ERROR_PARAMETERS + "\n" + sep.lstrip("\n") \
        + examples
    return cls


_ITEM_ERROR_PARAMETERS = """
    Parameters
    ----------
    reason, item, row, label : see :class:`InvalidInputError`
        What is wrong, the item, its row, and how the message names it.
"""


@_item_error
class FormulaError(InvalidInputError):
    """A formula that cannot be parsed or names an unknown element.

    Examples
    --------
    >>> from skmdl.descriptors import parse_formula
    >>> try:
    ...     parse_formula("Fe2O(")
    ... except FormulaError as exc:
    ...     print(exc)
    unclosed '('
    """


@_item_error
class MoleculeError(InvalidInputError):
    """A SMILES that cannot be parsed, or a repeat unit that cannot be polymerized.

    Examples
    --------
    >>> from skmdl.descriptors import MorganFingerprint
    >>> MorganFingerprint(n_bits=8).fit().transform(["CCO", "C("])
    Traceback (most recent call last):
    ...
    skmdl.exceptions.MoleculeError: cannot featurize SMILES 'C(' (row 1): RDKit cannot parse this SMILES
    """


@_item_error
class StructureError(InvalidInputError):
    """An input that is not a usable crystal structure.

    Examples
    --------
    >>> from skmdl.descriptors import RadialDistributionFeaturizer
    >>> f = RadialDistributionFeaturizer(elements=["Na"])
    >>> try:
    ...     f.fit().transform(["no/such/file.cif"])
    ... except StructureError as exc:
    ...     print(exc.row, exc.reason)
    0 no such file: 'no/such/file.cif'
    """


class UnknownModelError(KeyError):
    """A model id that is not in the model library.

    Parameters
    ----------
    message : str
        Names the id and the library (and, where one is close, the id meant).
    model_id : str, default=None
        The id asked for.

    Attributes
    ----------
    model_id : str or None

    Examples
    --------
    >>> exc = UnknownModelError("no model 'mp_gap-999' in the library", model_id="mp_gap-999")
    >>> exc.model_id, isinstance(exc, KeyError)
    ('mp_gap-999', True)
    """

    def __init__(self, message, model_id=None):
        self.model_id = model_id
        super().__init__(message)

    def __str__(self) -> str:  # KeyError's own str() quotes the message
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return type(self), (self.args[0] if self.args else "", self.model_id)


class FeaturizationWarning(UserWarning):
    """Some input items could not be featurized (``errors="nan"``); their rows are NaN.

    Parameters
    ----------
    n_failed : int
        Number of rows that could not be featurized.
    n_total : int
        Number of rows of the input.
    noun : str, default="items"
        What the items are, in the plural ("formulas", "SMILES", "structures").
    rows : sequence of int, default=()
        The failed rows, in increasing order.

    Attributes
    ----------
    n_failed : int
    n_total : int
    noun : str
    rows : tuple of int

    Examples
    --------
    >>> w = FeaturizationWarning(2, 5, "formulas", rows=[1, 4])
    >>> str(w)
    '2 of 5 formulas could not be featurized; their rows are NaN'
    >>> w.rows
    (1, 4)
    """

    def __init__(self, n_failed, n_total, noun="items", rows=()):
        self.n_failed = int(n_failed)
        self.n_total = int(n_total)
        self.noun = str(noun)
        self.rows = tuple(int(r) for r in rows)
        super().__init__(f"{self.n_failed} of {self.n_total} {self.noun} could not be "
                         "featurized; their rows are NaN")

    def __reduce__(self):
        return type(self), (self.n_failed, self.n_total, self.noun, self.rows)


def _rebuild(cls, reason, item, row, label):
    return cls(reason, item=item, row=row, label=label)
