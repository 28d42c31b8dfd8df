"""``skmdl csp``: crystal structure prediction for formulas (:class:`skmdl.csp.ShotgunCSP`),
ranked CIFs and a ranking table in an output folder."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from ._io import InputError, atomic_folder, check_output_folder, progress

RANKING = "ranking.csv"


def add_arguments(p) -> None:
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="composition(s), e.g. GaAs")
    p.add_argument("--out", required=True, help="output folder: rank01_<formula>.cif, ... and "
                   "ranking.csv (formula, rank, energy per atom, generator, template id, ...)")
    p.add_argument("--reference", metavar="FOLDER",
                   help="folder of known crystals (*.cif, pymatgen *.json; searched "
                   "recursively) used as templates, beside pymatgen's AFLOW prototypes")
    p.add_argument("--no-prototypes", action="store_true",
                   help="do not use the AFLOW prototypes (needs --reference)")
    p.add_argument("--generators", nargs="+", default=["template", "wyckoff"],
                   choices=["template", "wyckoff", "random"],
                   help="candidate generators (default: template wyckoff)")
    p.add_argument("--n-candidates", type=int, default=200,
                   help="candidates generated per formula (default: 200)")
    p.add_argument("--top-k", type=int, default=5, help="structures written per formula "
                   "(default: 5)")
    p.add_argument("--no-relax", action="store_true", help="rank by CHGNet single-point "
                   "energies only (fast); default: relax the best candidates with CHGNet")
    p.add_argument("--n-relax", type=int, help="candidates relaxed (default: --top-k)")
    p.add_argument("--relax-steps", type=int, default=60, help="relaxation step cap (default: 60)")
    p.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def reduced_formula(formula) -> str:
    """pymatgen's reduced formula; an error for text that is not a composition of elements."""
    from pymatgen.core import Composition, Element

    try:
        comp = Composition(str(formula))
    except Exception as exc:  # noqa: BLE001 - pymatgen raises several types
        raise InputError(f"bad formula {formula!r}: {exc}") from None
    bad = [str(e) for e in comp if not isinstance(e, Element)]
    try:
        n_atoms, reduced = float(comp.num_atoms), comp.reduced_formula
    except (OverflowError, ValueError, ZeroDivisionError) as exc:  # e.g. Fe1e400
        raise InputError(f"bad formula {formula!r}: {exc}") from None
    if bad or not len(comp) or not 0 < n_atoms < 1e6:
        raise InputError(f"bad formula {formula!r}: not a composition of chemical elements "
                         "with finite, positive amounts")
    return reduced


def reference_structures(folder, prototypes: bool):
    """Templates to fit on: the reference folder's crystals, or the AFLOW prototypes without one.

    ``ShotgunCSP.fit`` needs at least one structure; with no reference
    folder the prototypes themselves are the reference set (ids ``aflow:<label>``).
    """
    import pandas as pd

    from ..csp import TemplateStore

    store = TemplateStore()
    if folder is not None:
        if not Path(folder).is_dir():
            raise InputError(f"{folder}: no such folder")
        store.add_folder(folder)
        if not len(store):
            raise InputError(f"{folder}: no ordered crystal structure (*.cif, *.json) in it")
    elif prototypes:
        store.add_aflow_prototypes()
    else:
        raise InputError("--no-prototypes needs --reference: there would be no templates")
    templates = list(store)
    return pd.Series([t.structure for t in templates], index=[t.id for t in templates],
                     dtype=object)


def _space_group(structure) -> str:
    try:
        symbol, number = structure.get_space_group_info(symprec=0.1)
        return f"{symbol} ({number})"
    except Exception:  # noqa: BLE001 - spglib fails on some distorted cells
        return ""


def run(args) -> int:
    import pandas as pd

    from ..csp import ShotgunCSP

    for name in ("n_candidates", "top_k"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1")
    check_output_folder(args.out, args.overwrite)
    formulas = list(dict.fromkeys(reduced_formula(f) for f in args.formulas))
    refs = reference_structures(args.reference, not args.no_prototypes)
    csp = ShotgunCSP(generators=tuple(args.generators), n_candidates=args.n_candidates,
                     top_k=args.top_k, relax=not args.no_relax, n_relax=args.n_relax,
                     relax_steps=args.relax_steps, random_state=args.random_state,
                     prototypes=args.reference is not None and not args.no_prototypes)
    rows = []
    with atomic_folder(args.out) as tmp, \
            progress(args.quiet, total=len(formulas), desc="csp", unit="formula") as bar:
        with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints on loading
            csp.fit(refs)
        for formula in formulas:
            bar.set_postfix_str(formula)
            with contextlib.redirect_stdout(io.StringIO()):
                ranked = csp.predict([formula])[0]
            for rank, c in enumerate(ranked, start=1):
                fname = f"rank{rank:02d}_{formula}.cif"
                (tmp / fname).write_text(c.structure.to(fmt="cif"))
                rows.append({"formula": formula, "rank": rank,
                             "energy_per_atom": c.energy_per_atom, "generator": c.generator,
                             "template_id": c.template_id or "",
                             "space_group": _space_group(c.structure),
                             "relaxed": c.relaxed, "n_sites": len(c.structure),
                             "volume_per_atom": c.structure.volume / len(c.structure),
                             "file": fname})
            bar.update()
        columns = ["formula", "rank", "energy_per_atom", "generator", "template_id",
                   "space_group", "relaxed", "n_sites", "volume_per_atom", "file"]
        pd.DataFrame(rows, columns=columns).to_csv(tmp / RANKING, index=False)
    for formula in formulas:
        best = next((r for r in rows if r["formula"] == formula), None)
        n = sum(r["formula"] == formula for r in rows)
        if best is not None:
            print(f"{formula}: {n} structures, best {best['energy_per_atom']:.4f} eV/atom "
                  f"({best['generator']}, {best['template_id'] or best['space_group']})")
    print(f"wrote {args.out}")
    return 0
