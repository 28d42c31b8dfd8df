"""Reading a catalogue page back (for ``test_catalogue.py``), and a large synthetic library.

:class:`CataloguePage` parses the page the way a test needs it: its tags, the
property rows a browser without JavaScript shows, and the embedded JSON
decoded again (models, property groups, cards with their pool references
resolved), independently of the page's own script. :func:`synthetic_library`
writes an index of thousands of models with real-sized cards, in seconds.
The last part drives a page in a browser (selenium): what it shows, what
opens a property or a card, and timed scripts that change a filter or the
address.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from skmdl.library import ModelLibrary
from skmdl.library.library import summarize, write_index

DATA_ID = "catalogue-data"


class CataloguePage(HTMLParser):
    """A catalogue page: ``tags``, ``fallback`` rows, ``data``, ``models``, ``groups``, cards."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.fallback, self.raw_data = [], [], None
        self._row = self._cell = self._json = None
        self._noscript = False
        self.feed(text)
        self.close()
        self.data = json.loads(self.raw_data)
        fields = self.data["fields"]
        self.models = [dict(zip(fields, record)) for record in self.data["models"]]
        columns = [c[0] for c in self.data["group_columns"]]
        self.groups = [{**dict(zip(columns, g["cells"])), "keys": dict(zip(columns, g["keys"])),
                        "ids": [self.models[i]["id"] for i in g["models"]]}
                       for g in self.data["groups"]]
        self._index = {m["id"]: i for i, m in enumerate(self.models)}

    # ------------------------------------------------------------ parsing
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "noscript":
            self._noscript = True
        elif tag == "script" and attrs.get("type") == "application/json":
            assert attrs.get("id") == DATA_ID and self.raw_data is None
            self._json = []
        elif self._noscript and tag == "tr" and attrs.get("class") == "group":
            self._row = []
        elif self._row is not None and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "noscript":
            self._noscript = False
        elif tag == "script" and self._json is not None:
            self.raw_data, self._json = "".join(self._json), None
        elif tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.fallback.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._json is not None:
            self._json.append(data)
        elif self._cell is not None:
            self._cell.append(data)

    # ------------------------------------------------------------ cards
    def unpack(self, value):
        """A pool reference resolved (numbers are places in the pool, leaves are strings)."""
        if isinstance(value, int):
            value = self.data["pool"][value]
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            return [self.unpack(v) for v in value]
        return {k: self.unpack(v) for k, v in value.items()}

    def card(self, model_id) -> list:
        """The sections of a model's card: ``[[heading, [[label, value], ...], flag], ...]``."""
        return self.unpack(self.data["cards"][self._index[model_id]])

    def card_text(self, model_id) -> str:
        """Every heading, label and value of a model's card, one a line."""
        out = []

        def walk(value):
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
            else:
                for v in value.values():
                    walk(v)

        walk(self.card(model_id))
        return "\n".join(out)


# ---------------------------------------------------------------- what the page should show
def haystack(table: pd.DataFrame) -> pd.Series:
    """What the page's search box matches, per model: id, property, quantity, fidelity,
    training data set and descriptor, lower case."""
    parts = [table[c].fillna("").astype(str)
             for c in ("id", "property", "quantity", "fidelity", "task", "descriptor")]
    return pd.concat(parts, axis=1).agg(" ".join, axis=1).str.lower()


def matching(table: pd.DataFrame, text="", min_r2=None, **exact) -> pd.DataFrame:
    """The models of ``table`` (``ModelLibrary.search()``) the page's filters keep."""
    keep = haystack(table).str.contains(text.lower(), regex=False) if text else \
        pd.Series(True, index=table.index)
    for field, value in exact.items():
        keep &= table[field] == value
    if min_r2 is not None:
        keep &= pd.to_numeric(table["r2"], errors="coerce") >= min_r2
    return table[keep]


def properties(table: pd.DataFrame) -> list:
    """The properties of ``table``'s models in the page's order (sorted)."""
    return sorted(set(table["property"]))


def group_stats(table: pd.DataFrame) -> pd.DataFrame:
    """Per property: the number of models, the best MAE and R², as the page should list them."""
    return table.groupby("property").agg(n=("id", "size"), mae=("mae", "min"),
                                         r2=("r2", "max"))


# ---------------------------------------------------------------- a large library
def synthetic_library(root, n_models=5000, name="synthetic") -> ModelLibrary:
    """A library of ``n_models`` models in ``root``: ``index.json`` and every model's card.

    The cards are copies of the default library's (real sizes, the molecule
    ones with 200 descriptor names), one per property, with new ids,
    properties and metrics; properties hold 1 to 9 models. Every seventh property has no fidelity,
    and its index entries not even the field (an index from before fidelity).
    No weights are written: the catalogue reads only the index and the cards.
    """
    source = ModelLibrary.default()
    templates = [source.card(i) for i in source.ids]
    rng = np.random.default_rng(0)
    root = Path(root)
    entries, prop = [], 0
    while len(entries) < n_models:
        size = min(1 + prop % 9, n_models - len(entries))
        for k in range(size):
            card = _synthetic_card(templates[prop % len(templates)], prop, k, rng)
            entries.append(_write_card(root, card, old=prop % 7 == 3))
        prop += 1
    write_index(root, entries, name=name)
    return ModelLibrary(root)


def _synthetic_card(template: dict, prop: int, k: int, rng) -> dict:
    card = copy.deepcopy(template)
    card["id"] = f"p{prop:04d}_{card['training']['dataset']}-{k:03d}"
    card["property"] = f"{template['property']} #{prop}"
    card["training"]["dataset"] = f"{template['training']['dataset']}_{prop}"
    card["training"]["n_train"] = 500 + 37 * prop
    if prop % 7 == 3:
        card.pop("fidelity", None)
    r2 = float(rng.uniform(-0.2, 0.99))
    mae = float(rng.lognormal(0, 1))
    card["metrics"].update(r2=r2, mae=mae, rmse=mae * float(rng.uniform(1.1, 2.0)))
    return card


def _write_card(root: Path, card: dict, old: bool) -> dict:
    folder = f"models/{card['id']}"
    data = json.dumps(card, indent=1).encode()
    (root / folder).mkdir(parents=True)
    (root / folder / "card.json").write_bytes(data)
    entry = {**summarize(card), "path": folder,
             "sha256": {"card": hashlib.sha256(data).hexdigest(), "weights": "0" * 64}}
    if old:
        del entry["fidelity"]
    assert all(not isinstance(v, float) or math.isfinite(v) for v in entry.values())
    return entry


# ---------------------------------------------------------------- driving it in a browser
def _shown(driver, selector, key):
    """``dataset[key]`` of the rows matching ``selector`` the page actually shows (laid out)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(r => r.getClientRects().length > 0).map(r => r.dataset[arguments[1]]);",
        selector, key)


def visible_groups(driver):
    """Properties of the group rows the page shows, in order."""
    return _shown(driver, "#groups tr.group", "property")


def visible_models(driver):
    """Ids of the model rows the page shows (of the open properties), in order."""
    return _shown(driver, "#groups tr.model", "id")


def _opener(driver, row, key, value):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".find(r => r.dataset[arguments[1]] === arguments[2]).querySelector('button.open');",
        row, key, value)


def group_button(driver, prop):
    """The button that opens (and closes) a property's models."""
    return _opener(driver, "#groups tr.group", "property", prop)


def model_button(driver, model_id):
    """The button that opens (and closes) a model's card."""
    return _opener(driver, "#groups tr.model", "id", model_id)


def count_text(groups, n_groups, models, n_models):
    """The page's count of what its filters keep."""
    return f"{groups} of {n_groups} properties, {models} of {n_models} models"


#: in the page: one filter change, until the next frame after it (the layout and paint it causes)
TIMED_INPUT = """
const [id, value, done] = arguments, box = document.getElementById(id), t0 = performance.now();
box.value = value;
box.dispatchEvent(new Event("input"));
requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
"""

#: in the page: going to a model's address (#id), until the next frame after the page's answer
TIMED_HASH = """
const [id, done] = arguments, t0 = performance.now();
window.addEventListener("hashchange", () => requestAnimationFrame(
    () => setTimeout(() => done(performance.now() - t0), 0)), {once: true});
location.hash = id;
"""
