"""``skmdl featurize``: descriptors of a table column of formulas, crystal structures or SMILES.

Examples
--------
>>> from skmdl.cli import build_parser
>>> args = build_parser().parse_args(["featurize", "in.csv", "out.csv", "--featurizer",
...                                   "morgan", "--n-bits", "64"])
>>> make_featurizer(args)
MorganFingerprint(n_bits=64)
"""

from __future__ import annotations

from pathlib import Path

from ._io import (InputError, check_output_file, column, in_chunks, progress, read_table,
                  write_table)

#: featurizer name -> kind of input it reads
FEATURIZERS = {"composition": "formula", "rdf": "structure", "ofm": "structure",
               "chgnet": "structure", "rdkit": "smiles", "morgan": "smiles", "maccs": "smiles"}
#: input kind -> default column name
DEFAULT_COLUMN = {"formula": "formula", "structure": "cif", "smiles": "smiles"}
#: rows per progress step: large enough to keep each featurizer's batching efficient
CHUNK = {"composition": 20_000, "rdf": 256, "ofm": 256, "chgnet": 64, "rdkit": 2_000,
         "morgan": 5_000, "maccs": 5_000}
#: option -> the featurizers it applies to
OPTIONS = {
    "elements": ("composition",), "stats": ("composition",), "stoichiometry": ("composition",),
    "element_fractions": ("composition",), "cutoff": ("rdf", "ofm"), "n_bins": ("rdf",),
    "device": ("chgnet",), "radius": ("morgan",), "n_bits": ("morgan",),
    "polymer": ("rdkit", "morgan", "maccs"), "n_repeat": ("rdkit", "morgan", "maccs"),
    "n_jobs": ("composition", "rdf", "ofm", "rdkit", "morgan", "maccs"),
}


def add_arguments(p) -> None:
    p.add_argument("input", help="input table (.csv or .parquet) with one column of inputs")
    p.add_argument("output", help="output table, .csv or .parquet (by extension): the input "
                   "column followed by the features")
    p.add_argument("--featurizer", default="composition", choices=list(FEATURIZERS),
                   help="composition (formulas; default), rdf / ofm / chgnet (crystal "
                   "structures: CIF file paths, relative to the working folder or to the "
                   "table's folder, or CIF text), rdkit / morgan / maccs (SMILES)")
    p.add_argument("--column", help="input column (default: formula, cif or smiles, "
                   "after the featurizer's input)")
    p.add_argument("--errors", default="raise", choices=["raise", "nan"],
                   help="an unreadable input: stop with an error naming it (default), or "
                   "give its row NaN features and warn")
    g = p.add_argument_group("composition")
    g.add_argument("--elements", choices=["magpie", "oliynyk", "jarvis", "mat2vec", "skipatom"],
                   help="element property table (default: magpie)")
    g.add_argument("--stats", choices=["magpie", "xenonpy", "all"],
                   help="statistics over the elements (default: magpie)")
    g.add_argument("--stoichiometry", action="store_true", default=None,
                   help="add stoichiometry p-norms")
    g.add_argument("--element-fractions", action="store_true", default=None,
                   help="add element fractions")
    g = p.add_argument_group("crystal structures")
    g.add_argument("--cutoff", type=float, help="neighbour cutoff in Å (rdf: 10, ofm: 6)")
    g.add_argument("--n-bins", type=int, help="rdf distance bins (default: 100)")
    g.add_argument("--device", help="chgnet: torch device (default: cpu)")
    g = p.add_argument_group("molecules and polymers")
    g.add_argument("--radius", type=int, help="morgan radius (default: 2)")
    g.add_argument("--n-bits", type=int, help="morgan fingerprint length (default: 2048)")
    g.add_argument("--polymer", choices=["cyclize", "oligomer", "cap"],
                   help="SMILES are polymer repeat units with two '*': featurize a ring of "
                   "n-repeat units, an H-capped chain of them, or the capped unit")
    g.add_argument("--n-repeat", type=int, help="units per ring / chain (default: 3)")
    p.add_argument("--n-jobs", type=int, help="worker processes (default: 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def make_featurizer(args):
    """The featurizer the options ask for (only options that apply to it may be given)."""
    from .. import descriptors as d

    name = args.featurizer
    given = {k: getattr(args, k) for k in OPTIONS if getattr(args, k) is not None}
    misplaced = [k for k in given if name not in OPTIONS[k]]
    if misplaced:
        opts = ", ".join("--" + k.replace("_", "-") for k in misplaced)
        verb = "does" if len(misplaced) == 1 else "do"
        raise InputError(f"{opts} {verb} not apply to --featurizer {name}")
    classes = {"composition": d.CompositionFeaturizer, "rdf": d.RadialDistributionFeaturizer,
               "ofm": d.OrbitalFieldMatrixFeaturizer, "chgnet": d.CHGNetEmbedding,
               "rdkit": d.RDKitDescriptors, "morgan": d.MorganFingerprint, "maccs": d.MACCSKeys}
    return classes[name](errors=args.errors, **given)


def structure_items(values, table_path) -> list:
    """CIF text as is; a relative path that is not found from the working folder is
    looked up next to the table."""
    base = Path(table_path).parent
    out = []
    for v in values:
        if isinstance(v, str) and "\n" not in v and not v.lstrip().startswith("data_"):
            p = Path(v)
            if v and not p.is_absolute() and not p.exists() and (base / p).exists():
                v = str(base / p)
        out.append(v)
    return out


def run(args) -> int:
    import pandas as pd

    check_output_file(args.output)
    featurizer = make_featurizer(args)
    kind = FEATURIZERS[args.featurizer]
    name = args.column or DEFAULT_COLUMN[kind]
    df = read_table(args.input)
    raw = column(df, name, args.input)
    items = structure_items(raw, args.input) if kind == "structure" else raw
    # RDF learns its element pairs from the data; the others fit on nothing
    featurizer.fit(items if args.featurizer == "rdf" else None)
    with progress(args.quiet, total=len(items), desc=f"featurize ({args.featurizer})",
                  unit="row") as bar:
        F = in_chunks(featurizer.transform, items, CHUNK[args.featurizer], bar)
    out = pd.DataFrame(F, columns=featurizer.get_feature_names_out())
    out.insert(0, name, raw)
    write_table(out, args.output)
    print(f"wrote {len(out)} rows x {out.shape[1] - 1} features to {args.output}")
    return 0
