"""A static HTML catalogue of a model library, to search and browse its models.

After XenonPy.MDL's model search page, without a server: one self-contained
``index.html`` (CSS and JavaScript inline, nothing fetched from the network)
that works from ``file://``. It holds a table of every model, a search box
and filters (property, kind, descriptor, minimum R²), sortable columns, and
each model's full card (architecture, descriptor, training data with its
cleaning rule, metrics, checksums) in a row that opens under the model.

The table and the cards are rendered here, every value HTML-escaped, so the
page lists everything even with JavaScript off; the script only filters,
sorts and opens cards, and writes no markup (``textContent`` only).
"""

from __future__ import annotations

import html
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

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

    The file is written atomically: into a temporary file (a temporary folder
    when ``out_dir`` does not exist yet) that is then renamed, so a reader
    never sees a half-written catalogue, and a failure leaves ``out_dir`` as
    it was.

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
    return _write_atomic(Path(out_dir), INDEX_HTML, page)


def render_catalogue(library: ModelLibrary) -> str:
    """The catalogue page of ``library`` as one HTML string."""
    table = library.search()
    models = []
    for row in table.to_dict("records"):
        model_id = row["id"]
        models.append((row, library.card(model_id), library._entry(model_id).get("sha256", {})))
    name = library._index.get("name") or str(library.root)
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
    return _PAGE.format(
        title=_e(f"Model catalogue: {name}"),
        name=_e(name),
        n=len(models),
        filters=filters,
        head=head,
        body=body,
        ncol=len(COLUMNS),
        css=_CSS,
        js=_JS,
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


# ---------------------------------------------------------------- writing
def _write_atomic(out_dir: Path, name: str, text: str) -> Path:
    """Write ``out_dir/name`` through a temporary file or folder and a rename."""
    data = text.encode("utf-8")
    if out_dir.is_dir():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, out_dir / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return out_dir / name
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp",
                                    dir=out_dir.parent))
    try:
        with open(tmp_dir / name, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_dir / name, 0o644)
        os.chmod(tmp_dir, 0o755)
        os.rename(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return out_dir / name


# ---------------------------------------------------------------- page
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="skmdl.library.catalogue">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>Model catalogue</h1>
<p class="sub">{name}: {n} pretrained source models. Metrics are on each model's held-out
test split. Select a model id to open its card.</p>
</header>
<form id="controls" role="search" onsubmit="return false">
<label class="grow">search <input id="search" type="search" autocomplete="off"
 placeholder="id, property, training data or descriptor"></label>
{filters}
<label>min R² <input id="min-r2" type="number" step="0.05" min="-1" max="1"
 placeholder="any"></label>
<button type="reset" id="reset">clear</button>
<output id="count" aria-live="polite">{n} of {n} models</output>
</form>
<main>
<table id="models">
<thead><tr>{head}</tr></thead>
<tbody>{body}</tbody>
</table>
<p id="empty" hidden>No model matches.</p>
</main>
<script>{js}</script>
</body>
</html>
"""

_CSS = """
:root { --fg: #1d2330; --muted: #5b6478; --line: #d9dee8; --accent: #2456a6;
  --bg-alt: #f5f7fb; --card: #fbfcfe; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); margin: 0 1.5rem 2rem; }
header h1 { font-size: 1.5rem; margin: 1.2rem 0 .2rem; }
.sub { color: var(--muted); margin: 0 0 .8rem; }
#controls { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end;
  position: sticky; top: 0; background: #fff; padding: .6rem 0; z-index: 2;
  border-bottom: 1px solid var(--line); }
#controls label { display: flex; flex-direction: column; font-size: .8rem;
  color: var(--muted); gap: .15rem; }
#controls label.grow { flex: 1 1 18rem; }
#controls input, #controls select { font: inherit; color: var(--fg); padding: .3rem .45rem;
  border: 1px solid var(--line); border-radius: 4px; max-width: 17rem; }
#min-r2 { width: 6rem; }
#search { width: 100%; max-width: none; }
#reset { font: inherit; padding: .3rem .8rem; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg-alt); cursor: pointer; }
#count { color: var(--muted); margin-left: auto; padding-bottom: .35rem; }
table { border-collapse: collapse; width: 100%; margin-top: .6rem; }
th { text-align: left; border-bottom: 2px solid var(--line); white-space: nowrap; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: .4rem .4rem;
  cursor: pointer; color: var(--fg); }
th[aria-sort="ascending"] button::after { content: " \\25B2"; font-size: .7em; }
th[aria-sort="descending"] button::after { content: " \\25BC"; font-size: .7em; }
td { padding: .3rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.long { overflow-wrap: break-word; }
tr.model { scroll-margin-top: 7rem; }  /* clear of the sticky controls */
details.list summary { cursor: pointer; color: var(--accent); }
tr.model:nth-of-type(4n+1) { background: var(--bg-alt); }
tr.model:hover { background: #e9eef8; }
button.open { font: inherit; background: none; border: 0; padding: 0; color: var(--accent);
  cursor: pointer; text-align: left; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
  font-size: .92em; }
button.open::before { content: "\\25B8 "; }
button.open[aria-expanded="true"]::before { content: "\\25BE "; }
tr.card-row > td { background: var(--card); padding: .2rem .6rem 1rem; }
.card h2 { font-size: 1.1rem; margin: .6rem 0; font-family: ui-monospace, monospace; }
.sections { display: grid; grid-template-columns: repeat(auto-fill, minmax(19rem, 1fr));
  gap: .8rem; }
section { border: 1px solid var(--line); border-radius: 6px; padding: .4rem .8rem;
  background: #fff; }
section h3 { font-size: .9rem; margin: .2rem 0 .4rem; color: var(--accent); }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
dd dl { font-size: .92em; }
code { font-size: .85em; }
#empty { color: var(--muted); }
"""

_JS = r"""
(function () {
  "use strict";
  var tbody = document.querySelector("#models tbody");
  var models = Array.prototype.slice.call(tbody.querySelectorAll("tr.model")).map(
    function (row) {
      return {row: row, card: row.nextElementSibling,
              button: row.querySelector("button.open")};
    });
  var search = document.getElementById("search");
  var minR2 = document.getElementById("min-r2");
  var selects = Array.prototype.slice.call(document.querySelectorAll("#controls select"));
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");

  function matches(row) {
    var q = search.value.trim().toLowerCase();
    if (q && row.dataset.search.indexOf(q) < 0) { return false; }
    for (var i = 0; i < selects.length; i++) {
      var s = selects[i];
      if (s.value && row.dataset[s.dataset.field] !== s.value) { return false; }
    }
    if (minR2.value !== "") {
      var r2 = parseFloat(row.dataset.r2);
      if (!(r2 >= parseFloat(minR2.value))) { return false; }
    }
    return true;
  }

  function apply() {
    var shown = 0;
    models.forEach(function (m) {
      var ok = matches(m.row);
      m.row.hidden = !ok;
      m.card.hidden = !ok || m.button.getAttribute("aria-expanded") !== "true";
      if (ok) { shown++; }
    });
    count.textContent = shown + " of " + models.length + " models";
    empty.hidden = shown > 0;
  }

  function setOpen(m, open) {
    m.button.setAttribute("aria-expanded", open ? "true" : "false");
    m.card.hidden = !open || m.row.hidden;
  }

  models.forEach(function (m) {
    m.button.addEventListener("click", function () {
      setOpen(m, m.button.getAttribute("aria-expanded") !== "true");
    });
  });

  var headers = Array.prototype.slice.call(document.querySelectorAll("#models thead th"));
  headers.forEach(function (th) {
    var b = th.querySelector("button");
    b.addEventListener("click", function () {
      var col = parseInt(b.dataset.col, 10), numeric = b.dataset.type === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      function key(m) { return m.row.cells[col].dataset.value; }
      models.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === "" || y === "") { return (x === "") - (y === ""); }  // blanks last
        if (numeric) { return dir * (parseFloat(x) - parseFloat(y)); }
        return dir * x.localeCompare(y, undefined, {numeric: true});
      });
      models.forEach(function (m) { tbody.appendChild(m.row); tbody.appendChild(m.card); });
    });
  });

  function openFromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    models.forEach(function (m) {
      if (id && m.row.dataset.id === id) {
        setOpen(m, true);
        m.row.scrollIntoView();
      }
    });
  }

  search.addEventListener("input", apply);
  minR2.addEventListener("input", apply);
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.getElementById("controls").addEventListener("reset", function () {
    setTimeout(apply, 0);  // after the form has cleared its fields
  });
  window.addEventListener("hashchange", openFromHash);
  apply();
  openFromHash();
}());
"""
