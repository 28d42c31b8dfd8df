"""A static HTML catalogue of a model library, to search and browse its models.

After XenonPy.MDL's model search page, without a server: one self-contained
``index.html`` (CSS and JavaScript inline, nothing fetched from the network)
that works from ``file://``. It holds a table of every model, a search box
and filters (property, kind, descriptor, minimum R²), sortable columns, and
each model's full card (architecture, descriptor, training data with its
cleaning rule, metrics, checksums) in a row that opens under the model.
The page's skeleton, style sheet and script are package data:
``templates/catalogue.html``, ``catalogue.css`` and ``catalogue.js``.

The table and the cards are rendered here, every value HTML-escaped, so the
page lists everything even with JavaScript off; the script only filters,
sorts and opens cards, and writes no markup (``textContent`` only).
"""

from __future__ import annotations

import html
import json
import math
from importlib import resources
from pathlib import Path

from ..utils.atomic import atomic_dir, write_text
from .library import ModelLibrary

INDEX_HTML = "index.html"

#: table columns: (index field, header, type); "num" columns sort numerically
COLUMNS = (
    ("id", "id", "text"),
    ("property", "property", "text"),
    ("unit", "unit", "text"),
    ("kind", "kind", "text"),
    ("task", "training data", "text"),
    ("descriptor", "descriptor", "text"),
    ("hidden", "hidden layers", "text"),
    ("n_params", "parameters", "num"),
    ("n_train", "n train", "num"),
    ("mae", "MAE", "num"),
    ("rmse", "RMSE", "num"),
    ("r2", "R²", "num"),
)

#: lists longer than this are folded in a card (e.g. 200 RDKit descriptor names)
FOLD = 12

#: columns whose long values may break after ":", "_" and "+" (ids, data set and descriptor names)
LONG = ("id", "task", "descriptor")

#: card sections in display order: (card key, heading); other keys follow
SECTIONS = (
    ("architecture", "Architecture"),
    ("descriptor", "Descriptor (model input)"),
    ("training", "Training"),
    ("metrics", "Held-out metrics"),
)

#: fields shown first, in this order, in the model section and in each card section
FIRST = ("id", "property", "quantity", "unit", "kind", "n_params", "license",
         "dataset", "dataset_sha256", "split", "n_raw", "n_clean", "cleaning", "n_train",
         "n_val", "n_test", "type", "hidden", "activation", "name", "class", "n_features",
         "params", "mae", "rmse", "r2", "n")

#: friendlier labels of some card fields
LABELS = {"cleaning": "cleaning rule", "dataset": "data set", "n": "n test",
          "excluded_targets": "excluded targets", "excluded_note": "exclusion note"}


def write_catalogue(library, out_dir) -> Path:
    """Write a static HTML catalogue of ``library`` to ``out_dir/index.html``.

    The page is self-contained (no network, no server: open it from the file
    system) and lists every model of the library with its card. The search
    box matches like ``ModelLibrary.search(text=...)``: a case-insensitive
    substring of the id, property, training data set or descriptor.

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
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_catalogue(ModelLibrary.default(), folder)
    ...     page = path.read_text(encoding="utf-8")
    >>> path.name, page.count('<tr class="model"')
    ('index.html', 158)
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
    table = library.search()
    models = []
    for row in table.to_dict("records"):
        model_id = row["id"]
        models.append((row, library.card(model_id), library.entry(model_id).get("sha256", {})))
    name = library.name or str(library.root)
    filters = "".join(
        _select(field, label, table[field].dropna().astype(str).unique())
        for field, label in (("property", "property"), ("kind", "kind"),
                             ("descriptor", "descriptor"))
    )
    head = "".join(
        f'<th scope="col" aria-sort="none"><button type="button" data-col="{i}" '
        f'data-type="{kind}">{_e(label)}</button></th>'
        for i, (_, label, kind) in enumerate(COLUMNS)
    )
    body = "".join(_model_rows(row, card, sha) for row, card, sha in models)
    return _template("catalogue.html").format(
        title=_e(f"Model catalogue: {name}"),
        name=_e(name),
        n=len(models),
        filters=filters,
        head=head,
        body=body,
        ncol=len(COLUMNS),
        css=_template("catalogue.css"),
        js=_template("catalogue.js"),
    )


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


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _display(field, value) -> str:
    if _missing(value):
        return ""
    if field == "hidden" and isinstance(value, (list, tuple)):
        return "-".join(str(v) for v in value)
    if field == "r2":
        return f"{float(value):.3f}"
    if field in ("mae", "rmse"):
        return f"{float(value):.4g}"
    return str(value)


def _select(field, label, values) -> str:
    options = "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in sorted(values))
    return (f'<label>{_e(label)} <select id="filter-{field}" data-field="{field}">'
            f'<option value="">all</option>{options}</select></label>')


def _model_rows(row, card, sha256) -> str:
    model_id = str(row["id"])
    hay = " ".join(str(row[k]) for k in ("id", "property", "task", "descriptor")).lower()
    r2 = "" if _missing(row.get("r2")) else repr(float(row["r2"]))
    cells = []
    for field, _, kind in COLUMNS:
        value = row.get(field)
        if field == "id":
            cells.append(
                f'<td class="long" data-value="{_e(model_id)}"><button type="button" class="open" '
                f'aria-expanded="false" aria-controls="card-{_e(model_id)}" '
                f'title="show the model card">{_breakable(model_id)}</button></td>')
            continue
        sort = "" if _missing(value) else (repr(float(value)) if kind == "num"
                                           else _display(field, value))
        cls = ' class="num"' if kind == "num" else (' class="long"' if field in LONG else "")
        shown = _display(field, value)
        shown = _breakable(shown) if field in LONG else _e(shown)
        cells.append(f'<td{cls} data-value="{_e(sort)}">{shown}</td>')
    attrs = (f'data-id="{_e(model_id)}" data-search="{_e(hay)}" '
             f'data-property="{_e(row.get("property") or "")}" '
             f'data-kind="{_e(row.get("kind") or "")}" '
             f'data-descriptor="{_e(row.get("descriptor") or "")}" data-r2="{_e(r2)}"')
    return (f'<tr class="model" {attrs}>{"".join(cells)}</tr>'
            f'<tr class="card-row" id="card-{_e(model_id)}" hidden><td colspan="{len(COLUMNS)}">'
            f'{_card(model_id, card, sha256)}</td></tr>')


def _card(model_id, card, sha256) -> str:
    scalars = {k: v for k, v in card.items() if not isinstance(v, dict)}
    parts = [_section("Model", scalars)]
    for key, heading in SECTIONS:
        if isinstance(card.get(key), dict):
            parts.append(_section(heading, card[key]))
    for key, value in card.items():
        if isinstance(value, dict) and key not in dict(SECTIONS):
            parts.append(_section(key, value))
    files = {f"sha256 of {name}": digest for name, digest in sorted(sha256.items())}
    if files:
        parts.append(_section("Files", files, code=True))
    return (f'<article class="card" aria-label="card of {_e(model_id)}">'
            f'<h2>{_e(model_id)}</h2><div class="sections">{"".join(parts)}</div></article>')


def _section(heading, fields: dict, code=False) -> str:
    order = {k: i for i, k in enumerate(FIRST)}
    keys = sorted(fields, key=lambda k: (order.get(k, len(order)), str(k)))
    items = "".join(
        f"<dt>{_e(LABELS.get(k, k))}</dt><dd>{_value(fields[k], code)}</dd>" for k in keys
    )
    return f'<section><h3>{_e(heading)}</h3><dl>{items}</dl></section>'


def _value(value, code=False) -> str:
    if isinstance(value, dict):
        return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_value(v, code)}</dd>"
                                for k, v in value.items()) + "</dl>"
    if isinstance(value, (list, tuple)):
        text = ", ".join(json.dumps(v) if isinstance(v, (dict, list)) else str(v)
                         for v in value)
        if len(value) > FOLD:
            body = f"<code>{_e(text)}</code>" if code else _e(text)
            return (f'<details class="list"><summary>{len(value)} items</summary>'
                    f'{body}</details>')
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = "" if value is None else str(value)
    return f"<code>{_e(text)}</code>" if code else _e(text)


# ---------------------------------------------------------------- template
def _template(name: str) -> str:
    """A file of the page template (``skmdl/library/templates/``, package data)."""
    return resources.files("skmdl.library").joinpath(f"templates/{name}").read_text(
        encoding="utf-8")
