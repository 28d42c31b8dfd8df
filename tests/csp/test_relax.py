"""CHGNet relaxation: cell and positions move towards the minimum, the step cap holds."""

import numpy as np

from csp_crystals import rocksalt
from skmdl.csp.energy import CHGNetEnergy
from skmdl.csp.relax import CHGNetRelaxer


def test_relaxation_lowers_the_energy_of_a_strained_cell():
    strained = rocksalt("Na", "Cl", 6.3)
    energy = CHGNetEnergy()
    relaxer = CHGNetRelaxer(steps=40, fmax=0.05, energy=energy)
    relaxed, e, steps = relaxer.relax(strained)
    assert e < energy([strained])[0]
    assert relaxed.volume < strained.volume  # the over-expanded cell shrinks
    assert relaxed.composition == strained.composition
    assert np.isfinite(e) and steps <= 40 + 2
    _, _, few = relaxer.relax(strained, steps=2)  # the per-call cap overrides the default
    assert few <= 2 + 2
