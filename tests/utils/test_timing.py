import time

from skmdl.utils.timing import StepClock


def test_laps_sum_per_step_and_total_covers_them():
    clock = StepClock()
    time.sleep(0.02)
    clock.lap("a")
    clock.lap("b")
    time.sleep(0.02)
    clock.lap("a")
    assert set(clock.steps) == {"a", "b"}
    assert clock.steps["a"] >= 0.04
    assert clock.steps["b"] < clock.steps["a"]
    assert clock.total() >= sum(clock.steps.values())
