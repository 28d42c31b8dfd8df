"""The record a structure generator produces and ShotgunCSP ranks."""

from __future__ import annotations

from dataclasses import dataclass, field

from pymatgen.core import Structure


@dataclass
class Candidate:
    """One candidate crystal structure with its provenance.

    Parameters
    ----------
    structure : pymatgen Structure
    generator : str
        Name of the generator that made it (``"template"``, ``"wyckoff"``, ``"random"``).
    template_id : str, optional
        Template store id the structure was derived from.
    substitution : dict, optional
        Template element -> target element.
    space_group : int, optional
        Space group the generator asked for (Wyckoff generator).
    energy_per_atom : float, optional
        CHGNet energy (eV/atom) after ranking; NaN until evaluated.
    relaxed : bool
        Whether ``structure`` is the CHGNet-relaxed one.
    surrogate_energy : float, optional
        The per-system surrogate's prediction (eV/atom), NaN when not screened.
    info : dict
        Provenance: structure type and its member count, prior, volume factor, ...

    Examples
    --------
    >>> import json
    >>> from pymatgen.core import Lattice, Structure
    >>> s = Structure(Lattice.cubic(4.1), ["Cs", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    >>> c = Candidate(s, "template", template_id="mp-22865", substitution={"Cs": "Cs"},
    ...               energy_per_atom=-3.2, info={"type": "AB|221|1:a.1:b"})
    >>> back = Candidate.from_dict(json.loads(json.dumps(c.as_dict())))
    >>> back.structure == s, back.template_id, back.info["type"], back.energy_per_atom
    (True, 'mp-22865', 'AB|221|1:a.1:b', -3.2)
    """

    structure: Structure
    generator: str
    template_id: str | None = None
    substitution: dict | None = None
    space_group: int | None = None
    energy_per_atom: float = float("nan")
    relaxed: bool = False
    surrogate_energy: float = float("nan")
    info: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-able form (the structure as its pymatgen dict)."""
        return {"structure": self.structure.as_dict(), "generator": self.generator,
                "template_id": self.template_id, "substitution": self.substitution,
                "space_group": self.space_group, "energy_per_atom": self.energy_per_atom,
                "relaxed": self.relaxed, "surrogate_energy": self.surrogate_energy,
                "info": dict(self.info)}

    @classmethod
    def from_dict(cls, d: dict) -> "Candidate":
        d = dict(d)
        d["structure"] = Structure.from_dict(d["structure"])
        return cls(**d)

    def __repr__(self):
        return (f"Candidate({self.structure.composition.reduced_formula}, {self.generator}, "
                f"template={self.template_id}, E={self.energy_per_atom:.4f} eV/atom, "
                f"relaxed={self.relaxed})")
