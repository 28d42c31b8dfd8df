"""A static HTML catalogue of a model library, to search and browse its models.

After XenonPy.MDL's model search page, without a server: one self-contained
``index.html`` (CSS and JavaScript inline, nothing fetched from the network)
that works from ``file://``. Its first view is one row per property: the
quantity, fidelity, kind, unit and descriptor, how many models predict it,
their best held-out MAE and R², and the training-set size. A property opens
to its models (architecture, size, metrics), a model to its full card
(architecture, descriptor, training data with its cleaning rule, metrics,
checksums). A search box and filters (property, kind, fidelity, descriptor,
minimum R²) keep the properties with at least one matching model, and the
property columns sort.

It stays small and fast at thousands of models: the data are embedded once,
as JSON in a ``<script type="application/json">`` block, and the script
renders the first :data:`PAGE` matching properties (a button adds more), a
property's models and a model's card only when they are opened, writing text
only (``textContent``, never markup). A model's address ``index.html#<id>``
opens its card. Card values that repeat
across models (descriptor feature lists, cleaning rules, licences) are stored
once: every list, object and long string of the embedded cards is a number, its
place in a shared pool. Every ``<`` in the JSON is written ``\\u003c``, so no
value can end the block. With JavaScript off the page still lists the
properties with their model counts, rendered here with every value
HTML-escaped. The page's skeleton, style sheet and script are package data:
``templates/catalogue.html``, ``catalogue.css`` and ``catalogue.js``.
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path

from ..utils.atomic import atomic_dir, write_text
from .library import SUMMARY_FIELDS, ModelLibrary

INDEX_HTML = "index.html"

#: property (group) columns: (field, header, type); "num" columns sort numerically
GROUP_COLUMNS = (
    ("property", "property", "text"),
    ("quantity", "quantity", "text"),
    ("fidelity", "fidelity", "text"),
    ("kind", "kind", "text"),
    ("unit", "unit", "text"),
    ("descriptor", "descriptor", "text"),
    ("n_models", "models", "num"),
    ("mae", "best MAE", "num"),
    ("r2", "best R²", "num"),
    ("n_train", "n train", "num"),
)

#: columns of a property's model table: (field, header, type)
MODEL_COLUMNS = (
    ("id", "id", "text"),
    ("hidden", "hidden layers", "text"),
    ("n_params", "parameters", "num"),
    ("mae", "MAE", "num"),
    ("rmse", "RMSE", "num"),
    ("r2", "R²", "num"),
)

#: fields of each embedded model record, in order: what the model table shows and the
#: filters read; "r2_value" is the R² as a number (None when the index has none)
MODEL_FIELDS = ("id", "task", "kind", "fidelity", "quantity", "descriptor", "hidden",
                "n_params", "mae", "rmse", "r2", "r2_value")

#: select filters: (field, label); "property" is the group's, the others each model's
FILTERS = (("property", "property"), ("kind", "kind"), ("fidelity", "fidelity"),
           ("descriptor", "descriptor"))

#: columns whose long values may break after ":", "_" and "+" (ids, data set and descriptor names)
LONG = ("property", "fidelity", "descriptor", "id")

#: lists longer than this are folded in a card (e.g. 200 RDKit descriptor names)
FOLD = 12

#: property rows shown at first, and added by each "show more"
PAGE = 100

#: strings at least this long are stored once in the pool, shorter ones inline
POOLED = 16

#: card sections in display order: (card key, heading); other keys follow
SECTIONS = (
    ("architecture", "Architecture"),
    ("descriptor", "Descriptor (model input)"),
    ("training", "Training"),
    ("metrics", "Held-out metrics"),
)

#: fields shown first, in this order, in the model section and in each card section
FIRST = ("id", "property", "quantity", "fidelity", "unit", "kind", "n_params", "license",
         "dataset", "dataset_sha256", "split", "n_raw", "n_clean", "cleaning", "n_train",
         "n_val", "n_test", "type", "hidden", "activation", "name", "class", "n_features",
         "params", "mae", "rmse", "r2", "n")

#: friendlier labels of some card fields
LABELS = {"cleaning": "cleaning rule", "dataset": "data set", "n": "n test",
          "excluded_targets": "excluded targets", "excluded_note": "exclusion note"}


def write_catalogue(library, out_dir) -> Path:
    """Write a static HTML catalogue of ``library`` to ``out_dir/index.html``.

    The page is self-contained (no network, no server: open it from the file
    system). It lists the library's properties, each opening to its models,
    each model to its card. The search box matches a case-insensitive
    substring of a model's id, property, quantity, fidelity, training data
    set or descriptor (``ModelLibrary.search(text=...)`` and then some).

    The file is written atomically (:mod:`skmdl.utils.atomic`): into a
    temporary file, or a temporary folder when ``out_dir`` does not exist yet,
    that is then renamed, so a reader never sees a half-written catalogue, and
    a failure leaves ``out_dir`` as it was.

    Parameters
    ----------
    library : ModelLibrary, str or Path
        The library (or its folder or URL).
    out_dir : str or Path
        Folder of the catalogue; created if needed. Only ``index.html`` in
        it is written (replaced if present).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Examples
    --------
    >>> import tempfile
    >>> from skmdl.library import ModelLibrary
    >>> from skmdl.library.catalogue import write_catalogue
    >>> lib = ModelLibrary.default()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_catalogue(lib, folder)
    ...     page = path.read_text(encoding="utf-8")
    >>> n_properties = lib.search()["property"].nunique()
    >>> path.name, page.count('<tr class="group">') == n_properties > 20
    ('index.html', True)
    """
    if not isinstance(library, ModelLibrary):
        library = ModelLibrary(library)
    page = render_catalogue(library)
    out_dir = Path(out_dir)
    if out_dir.is_dir():  # other files there stay
        return write_text(out_dir / INDEX_HTML, page)
    with atomic_dir(out_dir) as tmp:  # the folder appears with its page
        (tmp / INDEX_HTML).write_text(page, encoding="utf-8")
    return out_dir / INDEX_HTML


def render_catalogue(library: ModelLibrary) -> str:
    """The catalogue page of ``library`` as one HTML string."""
    pool = _Pool()
    summaries, cards = [], []
    for model_id in library.ids:
        card, entry = library.card(model_id), library.entry(model_id)
        summaries.append(_summary(entry, card))
        cards.append(pool.ref(_card_view(card, entry.get("sha256", {}))))
    groups = _groups(summaries)
    data = {"fields": list(MODEL_FIELDS), "columns": [list(c) for c in MODEL_COLUMNS],
            "group_columns": [list(c) for c in GROUP_COLUMNS], "long": list(LONG), "page": PAGE,
            "models": [[_model_value(s, f) for f in MODEL_FIELDS] for s in summaries],
            "groups": groups, "cards": cards, "pool": pool.values}
    name = library.name or str(library.root)
    return _template("catalogue.html").format(
        title=_e(f"Model catalogue: {name}"), name=_e(name),
        n=len(summaries), n_groups=len(groups),
        filters="".join(_select(field, label, summaries) for field, label in FILTERS),
        head=_head(), fallback=_fallback(groups),
        data=_json_script(data),
        css=_template("catalogue.css"), js=_template("catalogue.js"),
    )


# ---------------------------------------------------------------- models and groups
def _summary(entry: dict, card: dict) -> dict:
    """A model's index row; quantity and fidelity from its card where an old index lacks them."""
    row = {k: entry.get(k) for k in SUMMARY_FIELDS}
    for key in ("quantity", "fidelity"):
        if key not in entry:
            row[key] = card.get(key)
    return row


def _number(value):
    """``value`` as a finite float, or None (missing, NaN, not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _display(field, value) -> str:
    """The text of a summary value in a table cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if field == "hidden" and isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    number = _number(value)
    if field == "r2" and number is not None:
        return f"{number:.3f}"
    if field in ("mae", "rmse") and number is not None:
        return f"{number:.4g}"
    return str(value)


def _model_value(summary: dict, field):
    if field == "r2_value":
        return _number(summary.get("r2"))
    return _display(field, summary.get(field))


def _groups(summaries: list) -> list:
    """One record per property: its table cells, their sort keys and its models (indices)."""
    members: dict = {}
    for i, s in enumerate(summaries):
        members.setdefault(_display("property", s.get("property")), []).append(i)
    order = sorted(members, key=lambda p: (p == "", p))  # a missing property last
    return [_group(prop, [summaries[i] for i in members[prop]], members[prop])
            for prop in order]


def _group(prop: str, rows: list, indices: list) -> dict:
    n_train = [v for v in (_number(r.get("n_train")) for r in rows) if v is not None]
    numbers = {"n_models": len(rows), "mae": _best(rows, "mae", min),
               "r2": _best(rows, "r2", max), "n_train": max(n_train, default=None)}
    cells, keys = [], []
    for field, _, kind in GROUP_COLUMNS:
        if field == "property":
            text = prop
        elif field == "n_train":
            text = _span(n_train)
        elif field in numbers:
            text = _display(field, numbers[field])
        else:  # the same for all of a property's models, as a rule; else each value once
            text = "; ".join(sorted({_display(field, r.get(field)) for r in rows} - {""}))
        cells.append(text)
        keys.append(numbers.get(field) if kind == "num" else (text or None))
    return {"property": prop, "cells": cells, "keys": keys, "models": indices}


def _best(rows: list, field, pick):
    values = [v for v in (_number(r.get(field)) for r in rows) if v is not None]
    return pick(values) if values else None


def _span(values: list) -> str:
    """``"3428"``, or ``"3000–4000"`` for the training sets of a property's models."""
    if not values:
        return ""
    lo, hi = (str(int(v)) if v.is_integer() else f"{v:g}" for v in (min(values), max(values)))
    return lo if lo == hi else f"{lo}–{hi}"


# ---------------------------------------------------------------- cards
def _card_view(card: dict, sha256: dict) -> list:
    """A card as its page sections: ``[[heading, [[label, value], ...], flag], ...]``.

    A value is the text shown, ``{"fold": text, "n": count}`` for a long list,
    or ``{"dl": [[label, value], ...]}`` for a nested object; the flag
    ``"code"`` marks a section of checksums, otherwise it is ``""``.
    """
    scalars = {k: v for k, v in card.items() if not isinstance(v, dict)}
    sections = [["Model", _fields(scalars), ""]]
    for key, heading in SECTIONS:
        if isinstance(card.get(key), dict):
            sections.append([heading, _fields(card[key]), ""])
    for key, value in card.items():
        if isinstance(value, dict) and key not in dict(SECTIONS):
            sections.append([str(key), _fields(value), ""])
    files = {f"sha256 of {name}": digest for name, digest in sorted(sha256.items())}
    if files:
        sections.append(["Files", _fields(files), "code"])
    return sections


def _fields(fields: dict) -> list:
    order = {k: i for i, k in enumerate(FIRST)}
    keys = sorted(fields, key=lambda k: (order.get(k, len(order)), str(k)))
    return [[LABELS.get(k, str(k)), _value(fields[k])] for k in keys]


def _value(value):
    if isinstance(value, dict):
        return {"dl": [[str(k), _value(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        text = ", ".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v)
                         for v in value)
        return {"fold": text, "n": str(len(value))} if len(value) > FOLD else text
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


class _Pool:
    """Values stored once: :meth:`ref` puts a value's lists, objects and long strings here.

    The JSON of a referenced value holds only short strings and numbers, each
    number the place in :attr:`values` of a list, object or string; the same
    value, wherever it occurs, is stored once.
    """

    def __init__(self):
        self.values, self._where = [], {}

    def ref(self, value):
        """``value`` (strings, lists, dicts of them) as a number, or as itself if a short string."""
        if isinstance(value, str):
            if len(value) < POOLED:
                return value
            key = value
        elif isinstance(value, dict):
            value = {str(k): self.ref(v) for k, v in value.items()}
            key = ("d", *value.items())
        else:
            value = [self.ref(v) for v in value]
            key = ("l", *value)
        if key not in self._where:
            self._where[key] = len(self.values)
            self.values.append(value)
        return self._where[key]


# ---------------------------------------------------------------- rendering
def _e(value) -> str:
    """HTML-escaped text (quotes too, so it is safe in attribute values)."""
    return html.escape("" if value is None else str(value), quote=True)


def _breakable(value) -> str:
    """Escaped text with line-break opportunities after ``:``, ``_`` and ``+``."""
    text = _e(value)
    for ch in ":_+":
        text = text.replace(ch, ch + "<wbr>")
    return text


def _json_script(data) -> str:
    """``data`` as JSON to embed in a script element: no ``<`` (so no ``</script>``), no NaN."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _select(field, label, summaries) -> str:
    values = sorted({_display(field, s.get(field)) for s in summaries} - {""})
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
    return (f'<label>{_e(label)} <select id="filter-{field}" data-field="{field}">'
            f'<option value="">all</option>{options}</select></label>')


def _head() -> str:
    return "".join(
        f'<th scope="col" aria-sort="none"><button type="button" data-col="{i}" '
        f'data-type="{kind}">{_e(label)}</button></th>'
        for i, (_, label, kind) in enumerate(GROUP_COLUMNS))


def _fallback(groups: list) -> str:
    """The property table for a browser without JavaScript (no models, no cards)."""
    head = "".join(f'<th scope="col">{_e(label)}</th>' for _, label, _ in GROUP_COLUMNS)
    rows = []
    for g in groups:
        cells = "".join(
            f'<td class="{"num" if kind == "num" else "long" if field in LONG else ""}">'
            f'{_breakable(text) if field in LONG else _e(text)}</td>'
            for (field, _, kind), text in zip(GROUP_COLUMNS, g["cells"]))
        rows.append(f'<tr class="group">{cells}</tr>')
    return (f'<table class="groups fallback"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


# ---------------------------------------------------------------- template
def _template(name: str) -> str:
    """A file of the page template (``skmdl/library/templates/``, package data)."""
    return resources.files("skmdl.library").joinpath(f"templates/{name}").read_text(
        encoding="utf-8")
