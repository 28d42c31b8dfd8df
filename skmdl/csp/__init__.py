"""skmdl.csp: crystal structure prediction (ShotgunCSP workflow).

Templates (:mod:`~skmdl.csp.templates`) and generators
(:mod:`~skmdl.csp.generators`) propose candidates, CHGNet and a per-system
surrogate (:mod:`~skmdl.csp.energy`) rank them, CHGNet relaxes the best
(:mod:`~skmdl.csp.relax`); :class:`ShotgunCSP` (:mod:`~skmdl.csp.shotgun`) runs
it all, :mod:`~skmdl.csp.metrics` says whether a prediction is right.
"""

from .candidate import Candidate
from .generators import RandomGenerator, TemplateGenerator
from .wyckoff import WyckoffGenerator
from .metrics import fingerprint_distance, first_match_rank, structure_match, success_at_k
from .shotgun import NoCandidatesError, ShotgunCSP
from .templates import TemplateStore, leave_one_out

__all__ = ["Candidate", "NoCandidatesError", "RandomGenerator", "ShotgunCSP", "TemplateGenerator", "TemplateStore",
           "WyckoffGenerator", "fingerprint_distance", "first_match_rank", "leave_one_out",
           "structure_match", "success_at_k"]
