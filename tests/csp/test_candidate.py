"""Candidate records: a JSON round trip keeps structure, provenance and energies."""

import json
import math

from csp_crystals import rocksalt
from skmdl.csp import Candidate


def test_json_round_trip_keeps_everything():
    c = Candidate(rocksalt("Na", "Cl", 5.64), "template", template_id="mp-22862",
                  substitution={"K": "Na", "Cl": "Cl"}, space_group=225, energy_per_atom=-3.41,
                  relaxed=True, surrogate_energy=-3.3,
                  info={"type": "AB|225|1:a.1:b", "type_count": 412, "prior": -1.5})
    back = Candidate.from_dict(json.loads(json.dumps(c.as_dict())))
    assert back.structure == c.structure
    for name in ("generator", "template_id", "substitution", "space_group", "energy_per_atom",
                 "relaxed", "surrogate_energy", "info"):
        assert getattr(back, name) == getattr(c, name), name


def test_unevaluated_candidate_round_trips_nan():
    c = Candidate(rocksalt("K", "Cl", 6.29), "wyckoff")
    back = Candidate.from_dict(json.loads(json.dumps(c.as_dict())))
    assert math.isnan(back.energy_per_atom) and math.isnan(back.surrogate_energy)
    assert "KCl" in repr(back) and "wyckoff" in repr(back)
