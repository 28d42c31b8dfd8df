"""``skmdl csp``: crystal structure prediction for formulas (:class:`skmdl.csp.ShotgunCSP`),
ranked CIFs and a ranking table in an output folder."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from ..utils.atomic import atomic_dir
from ._io import InputError, check_output_folder, progress

RANKING = "ranking.csv"


def add_arguments(p) -> None:
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="composition(s), e.g. GaAs")
    p.add_argument("--out", required=True, help="output folder: rank01_<formula>.cif, ... and "
                   "ranking.csv (formula, rank, energy per atom, generator, template id, ...)")
    p.add_argument("--pool", "--reference", dest="pool", metavar="PATH",
                   help="template pool: 'mp' (the Materials Project structures in "
                   "$SKMDL_DATA, the default when it holds them), a JSON-lines file "
                   "(.jsonl[.gz]: id, lattice, species, frac), a folder of *.cif / pymatgen "
                   "*.json files (searched recursively) or a pymatgen JSON list; beside "
                   "pymatgen's AFLOW prototypes")
    p.add_argument("--no-prototypes", action="store_true",
                   help="do not use the AFLOW prototypes (needs a pool)")
    p.add_argument("--generators", nargs="+", default=["template", "wyckoff"],
                   choices=["template", "wyckoff", "random"],
                   help="candidate generators (default: template wyckoff)")
    p.add_argument("--n-candidates", type=int, default=1000,
                   help="candidates generated per formula (default: 1000)")
    p.add_argument("--screen", default="kernel_ridge",
                   choices=["kernel_ridge", "pretrained", "none"],
                   help="per-formula screen of the candidates before CHGNet: kernel ridge on "
                        "RDF fingerprints (default), the model library's crystal "
                        "formation-energy networks transferred to the formula, or none")
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
    """pymatgen's reduced formula; an error for text that is not a composition of elements.

    Examples
    --------
    >>> reduced_formula("Ga2As2")
    'GaAs'
    >>> reduced_formula("Xx2O")
    Traceback (most recent call last):
    ...
    skmdl.cli._io.InputError: bad formula 'Xx2O': ...
    """
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


def default_pool():
    """``"mp"`` when ``$SKMDL_DATA`` holds the Materials Project structures, else None."""
    from ..datasets import DataNotFoundError
    from ..datasets.structures import resolve_pool

    try:
        resolve_pool("mp")
    except DataNotFoundError:
        return None
    return "mp"


def reference_pool(pool, prototypes: bool):
    """What ShotgunCSP is fitted on, and its name in words.

    A pool table (:func:`skmdl.datasets.load_structures`) for ``--pool`` (or the MP
    pool by default); without any pool the AFLOW prototypes themselves are the
    reference set (ids ``aflow:<label>``).
    """
    import pandas as pd

    from ..csp import TemplateStore
    from ..datasets import DataNotFoundError
    from ..datasets.structures import PoolError, load_structures

    if pool is None:
        pool = default_pool()
    if pool is not None:
        try:
            table = load_structures(pool)
        except (PoolError, DataNotFoundError) as exc:
            raise InputError(str(exc)) from None
        return table, f"{table.attrs['pool']['name']} ({len(table)} structures)"
    if not prototypes:
        raise InputError("--no-prototypes needs --pool: there would be no templates")
    store = TemplateStore().add_aflow_prototypes()
    templates = list(store)
    refs = pd.Series([t.structure for t in templates], index=[t.id for t in templates],
                     dtype=object)
    return refs, f"AFLOW prototypes ({len(refs)} structures; set SKMDL_DATA or --pool for more)"


def describe_templates(csp, formula) -> str:
    """How many templates and structure types of the formula's stoichiometry pattern there are."""
    from pymatgen.core import Composition

    gen = next((g for g in csp.generators_ if g.name == "template"), None)
    if gen is None:
        return "no template generator"
    templates = csp.templates_.lookup(formula)
    if not templates:
        return (f"no template of pattern {Composition(formula).anonymized_formula}; the other "
                "generators carry it")
    types = csp.templates_.types(formula, gen.max_atoms)
    return (f"{len(templates)} templates of pattern {templates[0].key} in "
            f"{len(types)} structure types (≤ {gen.max_atoms} atoms)")


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
    refs, pool_name = reference_pool(args.pool, not args.no_prototypes)
    csp = ShotgunCSP(generators=tuple(args.generators), n_candidates=args.n_candidates,
                     top_k=args.top_k, surrogate=args.screen, relax=not args.no_relax,
                     n_relax=args.n_relax, relax_steps=args.relax_steps,
                     random_state=args.random_state,
                     prototypes=not isinstance(refs, pd.Series) and not args.no_prototypes)
    rows = []
    with atomic_dir(args.out) as tmp, \
            progress(args.quiet, total=len(formulas), desc="csp", unit="formula") as bar:
        with contextlib.redirect_stdout(io.StringIO()):  # CHGNet prints on loading
            csp.fit(refs)
        print(f"pool: {pool_name}; {len(csp.templates_)} templates", flush=True)
        for formula in formulas:
            bar.set_postfix_str(formula)
            print(f"{formula}: {describe_templates(csp, formula)}", flush=True)
            with contextlib.redirect_stdout(io.StringIO()):
                ranked, details = csp.predict([formula], return_details=True)
            ranked = ranked[0]
            print(f"{formula}: {details[0]['provenance']}", flush=True)
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
