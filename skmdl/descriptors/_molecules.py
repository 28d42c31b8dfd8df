"""Molecule inputs: SMILES strings and RDKit ``Mol`` objects parsed into sanitized
molecules, and polymer repeat units turned into molecules.

Polymer repeat units are SMILES with two ``*`` connection points
(``*CC(*)c1ccccc1`` is polystyrene). A featurizer applied to the bare repeat
unit sees two dummy atoms and the chain ends they stand for;
:func:`polymerize` replaces them by chemistry instead:

* ``"cyclize"``: ``n_repeat`` units joined head to tail and the chain closed
  into a ring. Nothing is left of the chain ends, and the result does not
  depend on where the repeat unit was cut (``*CCO*``, ``*COC*`` and ``*OCC*``
  are the same polymer and give the same ring). Conjugated units can
  aromatize (``*C=C*`` gives benzene), and RDKit descriptors that enumerate
  ring systems get slow on macrocycles through fused rings.
* ``"oligomer"``: ``n_repeat`` units joined head to tail, both ends capped
  with hydrogen (the ends are diluted, not removed).
* ``"cap"``: the single repeat unit with both ``*`` replaced by hydrogen
  (as many H as the bond order). Cheapest; used by skmdl's polymer source
  models because the full RDKit set costs ~10-25x more on a trimer (see
  :mod:`skmdl.library.recipes_organic`).

RDKit is imported lazily, and its own error logging is silenced: the
:class:`~skmdl.exceptions.MoleculeError` says what failed.

Examples
--------
>>> from rdkit import Chem
>>> Chem.MolToSmiles(polymerize(parse_molecule("*CCO*"), "cyclize", n_repeat=2))
'C1COCCO1'
"""

from __future__ import annotations

from ..exceptions import MoleculeError

POLYMER_MODES = ("cyclize", "oligomer", "cap")


def rdkit_descriptor_names() -> list:
    """Names of RDKit's 2D descriptors (``rdkit.Chem.Descriptors.descList``), in order."""
    from rdkit.Chem import Descriptors

    return [name for name, _ in Descriptors.descList]


def parse_molecule(item):
    """RDKit ``Mol`` of a SMILES string, or a sanitized copy of a ``Mol``.

    ``MoleculeError`` if it is invalid. RDKit's parser messages are not
    printed (the error says what failed).
    """
    from rdkit import Chem, rdBase

    if isinstance(item, Chem.Mol):  # RWMol too
        # a Mol built with sanitize=False (bad valences, unkekulizable rings, no implicit
        # H computed) makes the fingerprint generators raise RuntimeError
        mol = Chem.Mol(item)
        with rdBase.BlockLogs():
            try:
                Chem.SanitizeMol(mol)
            except Exception as exc:  # RDKit raises several (Boost-wrapped) types
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise MoleculeError(f"RDKit cannot sanitize this molecule ({reason})") from None
        return mol
    if not isinstance(item, str):
        raise MoleculeError(f"expected a SMILES string or an RDKit Mol, got {type(item).__name__}")
    if not item.strip():
        raise MoleculeError("empty SMILES")
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(item)
    if mol is None:
        raise MoleculeError("RDKit cannot parse this SMILES")
    return mol


def _connection_points(mol):
    """(head star, tail star, head neighbour, tail neighbour, bond type) of a repeat unit."""
    stars = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]
    if len(stars) != 2:
        raise MoleculeError(f"a polymer repeat unit needs exactly 2 '*' connection points, "
                            f"found {len(stars)}")
    nbrs = []
    for s in stars:
        atom = mol.GetAtomWithIdx(s)
        if atom.GetDegree() != 1:
            raise MoleculeError(f"a '*' must have exactly one neighbour, one has {atom.GetDegree()}")
        nb = atom.GetNeighbors()[0]
        if nb.GetAtomicNum() == 0:
            raise MoleculeError("the two '*' are bonded to each other")
        nbrs.append(nb.GetIdx())
    bond = mol.GetBondBetweenAtoms(stars[1], nbrs[1]).GetBondType()
    return stars[0], stars[1], nbrs[0], nbrs[1], bond


def polymerize(mol, mode="cyclize", n_repeat=3):
    """Molecule standing for the polymer of a repeat unit with two ``*`` connection points.

    Parameters
    ----------
    mol : rdkit Mol
        The repeat unit (``[*]``, ``[1*]`` and ``[*:1]`` spellings are all
        connection points).
    mode : {"cyclize", "oligomer", "cap"}
        Ring of ``n_repeat`` units, H-capped chain of ``n_repeat`` units, or
        the H-capped single unit.
    n_repeat : int

    Returns
    -------
    Mol
        Sanitized and canonical (parsed back from its canonical SMILES), so
        equal polymers give identical features whatever their atom order.
        Stereochemistry is dropped: one repeat unit does not define the
        tacticity of the chain.

    Raises
    ------
    MoleculeError
        Not exactly two ``*``, a ``*`` with several neighbours, or a ring too
        small to build (``cyclize`` needs at least 3 backbone atoms).
    """
    from rdkit import Chem

    head, tail, h_nb, t_nb, bond = _connection_points(mol)
    n = 1 if mode == "cap" else int(n_repeat)
    if mode == "cyclize":
        backbone = len(Chem.GetShortestPath(mol, h_nb, t_nb)) if h_nb != t_nb else 1
        if n * backbone < 3:
            raise MoleculeError(f"cyclize: a ring of {n} unit(s) has {n * backbone} backbone "
                                f"atom(s), at least 3 are needed; increase n_repeat")
    mol = Chem.Mol(mol)
    Chem.RemoveStereochemistry(mol)
    size = mol.GetNumAtoms()
    combined = mol
    for _ in range(n - 1):
        combined = Chem.CombineMols(combined, mol)
    rw = Chem.RWMol(combined)
    for i in range(n - 1):
        rw.AddBond(i * size + t_nb, (i + 1) * size + h_nb, bond)
    remove = [i * size + tail for i in range(n - 1)] + [(i + 1) * size + head for i in range(n - 1)]
    ends = [head, (n - 1) * size + tail]
    if mode == "cyclize":
        rw.AddBond((n - 1) * size + t_nb, h_nb, bond)
        remove += ends
    else:
        # hydrogen caps: the end atoms get as many H as the bond order to their '*'
        # (implicit for organic-subset atoms; explicit for bracket atoms like [Si], [nH])
        for idx in ends:
            star = rw.GetAtomWithIdx(idx)
            nb = star.GetNeighbors()[0]
            if nb.GetNoImplicit() or (nb.GetIsAromatic() and nb.GetAtomicNum() != 6):
                order = int(rw.GetBondBetweenAtoms(idx, nb.GetIdx()).GetBondTypeAsDouble())
                nb.SetNumExplicitHs(nb.GetNumExplicitHs() + order)
        remove += ends
    for idx in sorted(remove, reverse=True):
        rw.RemoveAtom(idx)
    from rdkit import rdBase

    with rdBase.BlockLogs():
        try:
            out = rw.GetMol()
            Chem.SanitizeMol(out)
            smiles = Chem.MolToSmiles(out)
        except Exception as exc:  # RDKit raises several (Boost-wrapped) types
            raise MoleculeError(f"{mode} gives an invalid molecule ({exc})") from None
        canonical = Chem.MolFromSmiles(smiles)
    if canonical is None:
        raise MoleculeError(f"{mode} gives an invalid molecule ({smiles})")
    return canonical


def smiles_of(mol) -> str:
    """Canonical SMILES of a ``Mol``, or its ``repr`` if RDKit cannot write it."""
    from rdkit import Chem

    try:
        return Chem.MolToSmiles(mol)
    except Exception:  # a Mol RDKit cannot write
        return repr(mol)
