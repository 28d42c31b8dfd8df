"""Crystal-structure pools: the Materials Project structures as a light table.

:func:`load_structures` reads ``$SKMDL_DATA/structures/mp_structures.jsonl.gz``
(154,925 Materials Project crystals, CC-BY 4.0) or a user's own pool (a JSON-lines
file with the same fields, a folder of CIF / pymatgen-JSON files, or one pymatgen
JSON file holding a list of structures) into a pandas DataFrame with one row per
crystal: ``id``, ``formula`` (reduced), ``anonymized_formula``, ``nsites``,
``spacegroup`` and the raw ``lattice`` (3×3), ``species`` (tuple) and ``frac``
(n×3) arrays. No pymatgen object is built for the rows:
:func:`table_structure` builds one for a row when it is needed, so a template
look-up never pays for the other 155,000.

Parsing the JSON lines takes ~20-40 s on 2 cores (orjson where it can); the
parsed arrays are cached in ``$SKMDL_CACHE`` (default ``~/.cache/skmdl``) as one ``.npz`` file, written
atomically, checksummed (sha256 in a sidecar file, checked on every load) and
keyed by the sha256 of the source file, so a changed source is parsed again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import string
import warnings
from collections import Counter
from math import gcd
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils.atomic import atomic_file, write_text
from ._home import DataNotFoundError, data_home

#: named pools, relative to $SKMDL_DATA
POOLS = {"mp": "structures/mp_structures.jsonl.gz"}
CACHE_ENV = "SKMDL_CACHE"
_CACHE_FORMAT = 2
COLUMNS = ["id", "formula", "anonymized_formula", "nsites", "spacegroup", "lattice",
           "species", "frac"]


try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson comes with pymatgen
    _fast_loads = None


class PoolError(ValueError):
    """A structure pool that is missing, empty or cannot be read (names the file and line)."""


def anonymized_formula_from_counts(counts: dict) -> str:
    """Anonymized reduced formula from integer element counts, as pymatgen writes it.

    Examples
    --------
    >>> anonymized_formula_from_counts({"Li": 4, "Co": 4, "O": 8})
    'ABC2'
    >>> anonymized_formula_from_counts({"Fe": 6, "O": 8})
    'A3B4'
    """
    amounts = [int(v) for v in counts.values()]
    g = 0
    for a in amounts:
        g = gcd(g, a)
    parts = []
    for letter, a in zip(string.ascii_uppercase, sorted(x // g for x in amounts)):
        parts.append(letter if a == 1 else f"{letter}{a}")
    return "".join(parts)


def reduced_formula_of(species) -> str:
    """pymatgen's reduced formula of a list of element symbols."""
    from pymatgen.core import Composition

    return Composition(dict(zip(*np.unique(np.asarray(species, dtype=str),
                                           return_counts=True)))).reduced_formula


def cache_dir() -> Path:
    """Where parsed pools are cached: ``$SKMDL_CACHE`` or ``~/.cache/skmdl``."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "skmdl"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------- parsing
def _row_from_json(d: dict, where: str) -> tuple:
    """(id, lattice, species, frac, spacegroup, formula or None) of one JSON record, checked."""
    try:
        lat = np.asarray(d["lattice"], dtype=float).reshape(3, 3)
        species = tuple(str(s) for s in d["species"])
        frac = np.asarray(d["frac"], dtype=float).reshape(len(species), 3)
        sid = str(d["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PoolError(f"{where}: not a structure record ({type(exc).__name__}: {exc}); "
                        "expected id, lattice (3x3), species and frac (n x 3)") from None
    if not species or not np.isfinite(lat).all() or not np.isfinite(frac).all():
        raise PoolError(f"{where}: structure {sid!r} has no sites or non-finite numbers")
    sg = d.get("spacegroup")
    formula = d.get("formula")
    return (sid, lat, species, frac, (int(sg) if sg is not None else -1),
            str(formula) if formula else None)


def _loads(line: bytes):
    """One JSON record: orjson (a pymatgen dependency, ~2x faster) where it can read it.

    orjson refuses ``NaN`` and ``Infinity``; the standard parser reads them, so
    such a record reaches the non-finite check and is reported as such.
    """
    if _fast_loads is not None:
        try:
            return _fast_loads(line)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            pass
    return json.loads(line)


def _parse_jsonl(path: Path, progress=False) -> list:
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    try:
        with opener(path, "rb") as fh:
            for lineno, line in enumerate(_progress(fh, progress, path.name), start=1):
                if not line.strip():
                    continue
                try:
                    d = _loads(line)
                except json.JSONDecodeError as exc:
                    raise PoolError(f"{path}, line {lineno}: not JSON ({exc.msg})") from None
                rows.append(_row_from_json(d, f"{path}, line {lineno}"))
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # gzip CRC, truncation
        raise PoolError(f"{path}: cannot read it ({type(exc).__name__}: {exc})") from None
    return rows


def _progress(it, on, name):
    if not on:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, desc=f"reading {name}", unit=" structures")


def _row_from_structure(s, sid) -> tuple:
    return (str(sid), np.asarray(s.lattice.matrix, dtype=float),
            tuple(sp.symbol for sp in s.species), np.asarray(s.frac_coords, dtype=float) % 1.0,
            -1, s.composition.reduced_formula)


def _parse_structures(path: Path) -> list:
    """A folder of CIF / pymatgen JSON files, or one JSON file with a list of structures."""
    from pymatgen.core import Structure

    def read(p):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if p.suffix.lower() == ".json":
                    data = json.loads(p.read_text())
                    items = data if isinstance(data, list) else [data]
                    return [Structure.from_dict(x) for x in items]
                return [Structure.from_file(p)]
        except Exception as exc:  # noqa: BLE001 - name the bad file
            raise PoolError(f"{p}: cannot read a structure ({type(exc).__name__}: {exc})") \
                from None

    rows = []
    files = ([p for p in sorted(path.rglob("*")) if p.suffix.lower() in (".cif", ".json")]
             if path.is_dir() else [path])
    for p in files:
        structs = read(p)
        stem = str(p.relative_to(path).with_suffix("")) if path.is_dir() else p.stem
        for i, s in enumerate(structs):
            if not s.is_ordered:
                continue
            rows.append(_row_from_structure(s, stem if len(structs) == 1 else f"{stem}#{i}"))
    return rows


# ------------------------------------------------------------------------- table
def _table(rows: list) -> pd.DataFrame:
    """The DataFrame of parsed rows, with reduced and anonymized formulas.

    A record's own ``formula`` (the MP file's is pymatgen's reduced formula) is
    trusted; pymatgen computes the others, once per distinct composition.
    """
    formulas, anon, cache = [], [], {}
    for _, _, species, _, _, given in rows:
        counts = Counter(species)
        key = (given, tuple(sorted(counts.items())))
        if key not in cache:
            cache[key] = (given or reduced_formula_of(species),
                          anonymized_formula_from_counts(counts))
        f, a = cache[key]
        formulas.append(f)
        anon.append(a)
    return pd.DataFrame({
        "id": [r[0] for r in rows], "formula": formulas, "anonymized_formula": anon,
        "nsites": np.array([len(r[2]) for r in rows], dtype=np.int32),
        "spacegroup": np.array([r[4] for r in rows], dtype=np.int16),
        "lattice": [r[1] for r in rows], "species": [r[2] for r in rows],
        "frac": [r[3] for r in rows]})


def _to_arrays(df: pd.DataFrame) -> dict:
    species = [s for row in df["species"] for s in row]
    symbols, codes = np.unique(np.asarray(species, dtype=str), return_inverse=True)
    return {"id": df["id"].to_numpy(str), "formula": df["formula"].to_numpy(str),
            "anonymized_formula": df["anonymized_formula"].to_numpy(str),
            "nsites": df["nsites"].to_numpy(np.int32),
            "spacegroup": df["spacegroup"].to_numpy(np.int16),
            "lattice": np.stack(df["lattice"].to_list()).astype(np.float64),
            "frac": np.concatenate(df["frac"].to_list()).astype(np.float32),
            "symbols": symbols, "codes": codes.astype(np.int16)}


def _from_arrays(a) -> pd.DataFrame:
    nsites = a["nsites"]
    cuts = np.cumsum(nsites)[:-1]
    symbols = a["symbols"].tolist()
    species_all = [symbols[c] for c in a["codes"].tolist()]
    species, start = [], 0
    for n in nsites.tolist():
        species.append(tuple(species_all[start:start + n]))
        start += n
    return pd.DataFrame({
        "id": a["id"].astype(object), "formula": a["formula"].astype(object),
        "anonymized_formula": a["anonymized_formula"].astype(object), "nsites": nsites,
        "spacegroup": a["spacegroup"], "lattice": list(a["lattice"]), "species": species,
        "frac": np.split(a["frac"].astype(np.float64), cuts)})


def _cache_paths(name: str, source_sha: str) -> tuple:
    base = cache_dir() / "pools" / f"{name}-{source_sha[:16]}-v{_CACHE_FORMAT}.npz"
    return base, base.with_suffix(".npz.sha256")


def _read_cache(npz: Path, sidecar: Path):
    if not (npz.is_file() and sidecar.is_file()):
        return None
    if sidecar.read_text().strip() != _sha256(npz):
        warnings.warn(f"{npz}: cache checksum mismatch; parsing the pool again", stacklevel=3)
        return None
    with np.load(npz, allow_pickle=False) as a:
        return _from_arrays({k: a[k] for k in a.files})


def _write_cache(df: pd.DataFrame, npz: Path, sidecar: Path) -> None:
    try:
        with atomic_file(npz) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **_to_arrays(df))
        write_text(sidecar, _sha256(npz) + "\n")
    except OSError as exc:  # a read-only home is no reason to fail
        warnings.warn(f"could not cache the parsed pool in {npz.parent}: {exc}", stacklevel=3)


def resolve_pool(name_or_path) -> tuple:
    """``(label, path)`` of a named pool (``"mp"`` under ``$SKMDL_DATA``) or a path."""
    if isinstance(name_or_path, str) and name_or_path in POOLS:
        home = data_home()
        path = home / POOLS[name_or_path]
        if not path.is_file():
            raise DataNotFoundError(f"{path}: the {name_or_path!r} structure pool is not in "
                                    f"SKMDL_DATA={home}")
        return name_or_path, path
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise PoolError(f"{path}: no such pool file or folder (named pools: {sorted(POOLS)})")
    return path.name, path


def load_structures(name="mp", *, exclude_formulas=(), max_sites=None, cache=True,
                    progress=False) -> pd.DataFrame:
    """A crystal-structure pool as a light table (no pymatgen objects built).

    Parameters
    ----------
    name : str or path, default "mp"
        ``"mp"`` (the Materials Project structures in ``$SKMDL_DATA``), or the path
        of a JSON-lines file (``.jsonl`` / ``.jsonl.gz``, fields ``id``,
        ``lattice``, ``species``, ``frac``, optional ``spacegroup``), a folder of
        CIF / pymatgen JSON files, or a JSON file holding a list of structure dicts.
    exclude_formulas : sequence of str
        Reduced formulas whose structures (every polymorph) are left out.
    max_sites : int, optional
        Leave out cells with more sites.
    cache : bool
        Read and write the parsed-array cache (JSON-lines pools only).
    progress : bool
        tqdm bar while parsing.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`; ``df.attrs["pool"]`` names the source and its sha256.

    Raises
    ------
    PoolError
        Missing, empty or unreadable pool (the message names file and line).

    See Also
    --------
    table_structure : the pymatgen Structure of one row.

    Examples
    --------
    >>> pool = load_structures("mp")  # needs SKMDL_DATA
    >>> len(pool) > 150_000, pool.loc[pool["id"] == "mp-1000", "formula"].item()
    (True, 'BaTe')
    >>> table_structure(pool[pool["id"] == "mp-1000"].iloc[0]).composition.reduced_formula
    'BaTe'
    """
    label, path = resolve_pool(name)
    jsonl = path.is_file() and (path.name.endswith(".jsonl") or path.name.endswith(".jsonl.gz"))
    if jsonl:
        sha = _sha256(path)
        npz, sidecar = _cache_paths(label.split(".")[0], sha)
        df = _read_cache(npz, sidecar) if cache else None
        if df is None:
            df = _table(_parse_jsonl(path, progress))
            if cache and len(df):
                _write_cache(df, npz, sidecar)
    else:
        sha = _sha256(path) if path.is_file() else ""
        df = _table(_parse_structures(path))
    if not len(df):
        raise PoolError(f"{path}: the pool holds no ordered structure")
    df = filter_pool(df, exclude_formulas=exclude_formulas, max_sites=max_sites)
    df.attrs["pool"] = {"name": label, "path": str(path), "sha256": sha}
    return df


def filter_pool(df: pd.DataFrame, exclude_formulas=(), max_sites=None) -> pd.DataFrame:
    """Rows of ``df`` without the given reduced formulas (and cells ≤ ``max_sites``)."""
    from pymatgen.core import Composition

    keep = np.ones(len(df), dtype=bool)
    if len(exclude_formulas):
        banned = {Composition(str(f)).reduced_formula for f in exclude_formulas}
        keep &= ~df["formula"].isin(banned).to_numpy()
    if max_sites is not None:
        keep &= df["nsites"].to_numpy() <= int(max_sites)
    out = df[keep].reset_index(drop=True) if not keep.all() else df
    out.attrs = dict(df.attrs)
    return out


def table_structure(row):
    """The pymatgen Structure of one pool row (a Series, or a dict with the same keys)."""
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(np.asarray(row["lattice"], dtype=float)), list(row["species"]),
                     np.asarray(row["frac"], dtype=float))


def is_pool_table(X) -> bool:
    """Whether ``X`` is a table as :func:`load_structures` returns it."""
    return isinstance(X, pd.DataFrame) and {"lattice", "species", "frac"} <= set(X.columns)


def pool_from_structures(structures, ids=None) -> pd.DataFrame:
    """A pool table from pymatgen Structures (disordered ones are left out)."""
    structures = list(structures)
    ids = list(ids) if ids is not None else [f"user-{i}" for i in range(len(structures))]
    rows = [_row_from_structure(s, i) for s, i in zip(structures, ids) if s.is_ordered]
    df = _table(rows)
    df.attrs["pool"] = {"name": "structures", "path": "", "sha256": ""}
    return df
