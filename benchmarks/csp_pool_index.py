"""Cost of the Materials Project template pool: parse, cache, store, look-up, structure types.

    SKMDL_DATA=../shared/data python benchmarks/csp_pool_index.py [--cache-dir DIR]

Measures, in one process on this machine, against issue 14's budget (index
≤ 60 s and ≤ 3 GB RSS on 2 cores, a target's template look-up ≤ 1 s):

1. ``load_structures("mp")`` from the JSON lines with no cache (a fresh machine),
   and again from the checksummed ``.npz`` cache it wrote;
2. ``TemplateStore().add_table(pool)`` (155k lazy templates) and its leave-one-out copy;
3. per benchmark target: the template look-up (dict access by anonymized formula)
   and the structure-type grouping, first (spglib on every template of the
   pattern, then cached on disk) and again from the type cache.

The cache folder is a fresh temporary one unless ``--cache-dir`` is given, so the
first-time figures are first-time figures.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import write_result  # noqa: E402


def rss_gb() -> float:
    with open(f"/proc/{os.getpid()}/status") as fh:
        return int(fh.read().split("VmRSS:")[1].split()[0]) / 1024 ** 2


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-dir", help="SKMDL_CACHE to use (default: a new temporary folder)")
    ap.add_argument("--max-atoms", type=int, default=60, help="templates typed per target")
    args = ap.parse_args(argv)
    os.environ["SKMDL_CACHE"] = args.cache_dir or tempfile.mkdtemp(prefix="skmdl-pool-bench-")
    warnings.simplefilter("ignore")
    from pymatgen.core import Composition

    from skmdl.csp import TemplateStore
    from skmdl.datasets import data_home
    from skmdl.datasets.structures import load_structures

    rows = []
    pool, t_parse = timed(lambda: load_structures("mp"))
    rows.append(("load_structures('mp'), no cache (parse JSON lines, write cache)", t_parse,
                 rss_gb()))
    _, t_cached = timed(lambda: load_structures("mp"))
    rows.append(("load_structures('mp') from the checksummed cache", t_cached, rss_gb()))
    store, t_store = timed(lambda: TemplateStore().add_table(pool))
    rows.append((f"TemplateStore().add_table(pool): {len(store)} lazy templates", t_store,
                 rss_gb()))
    targets = sorted(p.stem for p in (data_home() / "csp" / "benchmark35").glob("*.cif"))
    look, first, again, n_types = [], [], [], []
    for label in targets:
        formula = Composition(label).reduced_formula
        loo, t_loo = timed(lambda: store.exclude_formulas([formula]))
        found, t_look = timed(lambda: loo.lookup(formula))
        types, t_first = timed(lambda: loo.types(formula, args.max_atoms))
        _, t_again = timed(lambda: loo.types(formula, args.max_atoms))
        look.append(t_look)
        first.append(t_first)
        again.append(t_again)
        n_types.append(len(types))
        print(f"{label:12s} templates={len(found):6d} types={len(types):4d} "
              f"leave-one-out {t_loo:.2f}s lookup {t_look * 1e3:.1f} ms types {t_first:.1f}s "
              f"(cached {t_again:.2f}s)", flush=True)
    rows.append(("leave-one-out copy of the store (per target, last)", t_loo, rss_gb()))
    cmd = "SKMDL_DATA=../shared/data python benchmarks/csp_pool_index.py"
    lines = [f"`{cmd}`", "", "| step | seconds | RSS (GB) |", "|---|---:|---:|"]
    lines += [f"| {name} | {t:.1f} | {r:.2f} |" for name, t, r in rows]
    lines += ["", f"Per target over the 35 benchmark formulas: template look-up max "
              f"{max(look) * 1e3:.1f} ms (median {np.median(look) * 1e3:.2f} ms); structure types "
              f"(≤ {args.max_atoms} atoms) first time median {np.median(first):.1f} s, max "
              f"{max(first):.1f} s ({targets[int(np.argmax(first))]}), total {sum(first):.0f} s; "
              f"from the type cache max {max(again):.2f} s; types per target median "
              f"{int(np.median(n_types))}, max {max(n_types)}. Peak RSS {peak_gb():.2f} GB. "
              f"{os.cpu_count()} cores."]
    text = "\n".join(lines)
    print(text)
    print("written to", write_result("csp_pool_index.md", text))


if __name__ == "__main__":
    main()
