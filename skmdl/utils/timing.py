"""Seconds per named step of a long computation (the profiles benchmarks print)."""

from __future__ import annotations

import time


class StepClock:
    """Wall-clock seconds spent per named step, summed over repeated steps.

    Examples
    --------
    >>> clock = StepClock()
    >>> clock.lap("load"); clock.lap("fit"); clock.lap("load")
    >>> sorted(clock.steps), clock.total() >= sum(clock.steps.values())
    (['fit', 'load'], True)
    """

    def __init__(self):
        self.t0 = self.last = time.perf_counter()
        self.steps = {}

    def lap(self, name) -> None:
        """Charge the seconds since the last lap (or the start) to ``name``.

        Parameters
        ----------
        name : str
            The step; repeated laps of one step add up.
        """
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - self.last
        self.last = now

    def total(self) -> float:
        """Seconds since the clock started."""
        return time.perf_counter() - self.t0
