"""CHGNet relaxation of candidate crystals (FIRE, positions and cell, capped steps)."""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stdout

import numpy as np


class CHGNetRelaxer:
    """Relax structures with chgnet's ``StructOptimizer`` (FIRE + FrechetCellFilter).

    Parameters
    ----------
    steps : int
        Maximum optimizer steps per structure.
    fmax : float
        Force convergence criterion (eV/Å).
    energy : CHGNetEnergy, optional
        Shares its loaded model.
    device : str
        ``"cpu"`` or ``"cuda"``.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> s = Structure(Lattice.cubic(4.6), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> relaxed, e, steps = CHGNetRelaxer(steps=3).relax(s)
    >>> relaxed.volume < s.volume, -5 < e < -2, steps <= 5   # a too-large cell shrinks
    (True, True, True)
    """

    def __init__(self, steps=60, fmax=0.1, energy=None, device="cpu"):
        self.steps = steps
        self.fmax = fmax
        self.energy = energy
        self.device = device
        self._opt = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_opt"] = None
        return state

    @property
    def optimizer(self):
        if self._opt is None:
            from chgnet.model import StructOptimizer

            from .energy import CHGNetEnergy

            energy = self.energy or CHGNetEnergy(device=self.device)
            self._opt = StructOptimizer(model=energy.model, optimizer_class="FIRE",
                                        use_device=self.device)
        return self._opt

    def relax(self, structure, steps=None):
        """``(relaxed structure, energy per atom, steps taken)``; ``steps`` overrides the cap."""
        from threadpoolctl import threadpool_limits

        # The cell filter's 3x3 matrix exponentials run ~100x slower when BLAS
        # spreads them over busy cores; one BLAS thread is always enough here.
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()), \
                threadpool_limits(limits=1, user_api="blas"):
            warnings.simplefilter("ignore")
            res = self.optimizer.relax(structure, fmax=self.fmax,
                                       steps=self.steps if steps is None else steps,
                                       relax_cell=True, verbose=False)
        traj = res["trajectory"]
        s = res["final_structure"]
        e = float(np.asarray(traj.energies[-1])) / len(s)
        return s, e, len(traj.energies)
