"""
Crystal structure prediction of GaAs
====================================

:class:`~skmdl.csp.ShotgunCSP` predicts a crystal structure from the
composition alone: it substitutes the target's elements into known crystals
of the same stoichiometry pattern (templates) and draws symmetric random
crystals, ranks the candidates by CHGNet energy (with a per-system surrogate
choosing which ones to evaluate) and relaxes the best.

Here the templates are five textbook AB crystals, none of them GaAs, and the
budget is tiny (16 candidates, two short relaxations) so the example runs in
seconds; the README's benchmark uses 60 candidates per target and about 320
templates.
"""

# %%
# Reference crystals
# ------------------
import warnings

from pymatgen.core import Lattice, Structure

warnings.filterwarnings("ignore")  # pymatgen/CHGNet chatter about site properties

fcc = [[0, 0, 0], [0.25, 0.25, 0.25]]
references = {
    "ZnS (zinc blende)": Structure.from_spacegroup("F-43m", Lattice.cubic(5.41), ["Zn", "S"], fcc),
    "NaCl (rock salt)": Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                                  [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "CsCl": Structure.from_spacegroup("Pm-3m", Lattice.cubic(4.12), ["Cs", "Cl"],
                                      [[0, 0, 0], [0.5, 0.5, 0.5]]),
    "ZnO (wurtzite)": Structure.from_spacegroup("P6_3mc", Lattice.hexagonal(3.25, 5.21),
                                                ["Zn", "O"], [[1 / 3, 2 / 3, 0],
                                                              [1 / 3, 2 / 3, 0.382]]),
    "NiAs": Structure.from_spacegroup("P6_3/mmc", Lattice.hexagonal(3.62, 5.03), ["Ni", "As"],
                                      [[0, 0, 0], [1 / 3, 2 / 3, 0.25]]),
}
for name, s in references.items():
    print(f"{name:18s} {s.composition.reduced_formula:5s} {len(s)} atoms")

# %%
# Predict
# -------
# ``prototypes=False`` leaves pymatgen's AFLOW prototypes out (they would add
# about 290 templates, zinc blende among them).
import pandas as pd

from skmdl.csp import ShotgunCSP

csp = ShotgunCSP(generators=("template", "wyckoff"), n_candidates=16, n_train=6, n_screen=4,
                 top_k=5, relax=True, n_relax=2, relax_steps=20, prototypes=False,
                 random_state=0)
csp.fit(pd.Series(list(references.values()), index=list(references)))
ranked, details = csp.predict(["GaAs"], return_details=True)
candidates = ranked[0]
print(details[0])
for rank, c in enumerate(candidates, start=1):
    print(rank, c)

# %%
# Is the best candidate right?
# ----------------------------
# The experimental structure is zinc blende with a = 5.65 Å.
# :func:`~skmdl.csp.structure_match` is the benchmarks' criterion (pymatgen's
# ``StructureMatcher(ltol=0.3, stol=0.5, angle_tol=10)``).
from skmdl.csp import first_match_rank, structure_match

gaas = Structure.from_spacegroup("F-43m", Lattice.cubic(5.65), ["Ga", "As"], fcc)
print("best candidate matches:", structure_match(candidates[0], gaas))
print("rank of the first match:", first_match_rank(candidates, gaas))
best = candidates[0].structure
print(f"volume per atom: predicted {best.volume / len(best):.2f} Å³, "
      f"experiment {gaas.volume / len(gaas):.2f} Å³")

# %%
from skmdl.plotting import csp_ranking_plot

ax = csp_ranking_plot(candidates, true_structure=gaas)
ax.figure.tight_layout()
