"""Recipes of the molecule and polymer source models of the embedded library.

``MOLECULE_SOURCES`` (QM9) and ``POLYMER_SOURCES`` (RadonPy PI1070 MD
properties; NeurIPS Open Polymer Prediction 2025 FFV, density, Rg) are built
into ``ModelLibrary.default()`` by ``benchmarks/build_molecule_library.py``,
next to the inorganic models of :mod:`skmdl.library.recipes`.

Descriptors: RDKit's full 2D descriptor set (names pinned in the card, so a
later RDKit with more descriptors still rebuilds the same featurizer);
molecules as given, polymer repeat units capped with hydrogen
(``polymer="cap"``). ``"cyclize"`` and ``"oligomer"`` (three units) describe
the chain better but cost too much with the *full* RDKit set: on the 2-core
build machine a capped unit took ~0.17 s, a dimer ~1.4 s and a trimer ~4 s
(``Ipc``, ``BertzCT`` grow fast with size), and the macrocycle of a cyclized
polyimide made ``NumBridgeheadAtoms`` run for minutes and gigabytes (ring
enumeration through fused ring systems). They remain available to users of
:class:`~skmdl.descriptors.RDKitDescriptors` and cheap for
:class:`~skmdl.descriptors.MorganFingerprint`.

RadonPy's static dielectric constant (MD dipole fluctuations) was left out:
its best held-out R² was 0.08 (noise). OPP 2025 ``FFV`` (7,030 rows) is subsampled to 2,500 rows (seed 0) for the
same reason (featurizing time), see :func:`build_organic`.

The polymer benchmark targets (``POLYMER_TARGETS``: thermal conductivity
``Tc`` and glass transition temperatures) are never source tasks, and a
source of the same quantity (RadonPy's MD thermal conductivity for ``Tc``:
61 of its repeat units are also in the ``Tc`` set) is excluded from the
target's candidates by :func:`polymer_transfer_exclusions`.
"""

from dataclasses import replace

from .builder import BENCHMARK_TARGETS, SourceTask, TrainingConfig

_QM9 = "QM9, Ramakrishnan et al. Sci. Data 1, 140022 (2014) (CC-BY 4.0), 14,862-molecule subset"
_RADONPY = ("RadonPy PI1070, Hayashi et al. npj Comput. Mater. 8, 222 (2022) (BSD-3), "
            "all-atom MD at 300 K, 1 atm")
_OPP = "NeurIPS Open Polymer Prediction 2025, Liu et al. (MIT)"

MOLECULE_SOURCES = [
    SourceTask("qm9_mu", "dipole moment (QM9)", "dipole moment", "D", "molecule", source=_QM9),
    SourceTask("qm9_alpha", "isotropic polarizability (QM9)", "polarizability", "bohr^3",
               "molecule", source=_QM9),
    SourceTask("qm9_homo", "HOMO energy (QM9)", "HOMO energy", "Ha", "molecule", source=_QM9),
    SourceTask("qm9_lumo", "LUMO energy (QM9)", "LUMO energy", "Ha", "molecule", source=_QM9),
    SourceTask("qm9_gap", "HOMO-LUMO gap (QM9)", "HOMO-LUMO gap", "Ha", "molecule",
               source=_QM9),
    SourceTask("qm9_r2", "electronic spatial extent (QM9)", "electronic spatial extent",
               "bohr^2", "molecule", source=_QM9),
    SourceTask("qm9_zpve", "zero-point vibrational energy (QM9)", "zero-point energy", "Ha",
               "molecule", source=_QM9),
    SourceTask("qm9_cv", "heat capacity at 298 K (QM9)", "heat capacity", "cal/(mol K)",
               "molecule", source=_QM9),
]

POLYMER_SOURCES = [
    SourceTask("radonpy_density", "density (RadonPy MD)", "density", "g/cm^3", "polymer",
               source=_RADONPY),
    SourceTask("radonpy_rg", "radius of gyration (RadonPy MD)", "radius of gyration", "A",
               "polymer", source=_RADONPY),
    SourceTask("radonpy_self_diffusion", "self-diffusion coefficient (RadonPy MD)",
               "self-diffusion coefficient", "m^2/s", "polymer", source=_RADONPY),
    SourceTask("radonpy_cp", "isobaric heat capacity (RadonPy MD)", "heat capacity",
               "J/(kg K)", "polymer", source=_RADONPY),
    SourceTask("radonpy_cv", "isochoric heat capacity (RadonPy MD)", "heat capacity",
               "J/(kg K)", "polymer", source=_RADONPY),
    SourceTask("radonpy_compressibility", "isothermal compressibility (RadonPy MD)",
               "compressibility", "1/Pa", "polymer", source=_RADONPY),
    SourceTask("radonpy_bulk_modulus", "bulk modulus (RadonPy MD)", "bulk modulus", "Pa",
               "polymer", source=_RADONPY),
    SourceTask("radonpy_volume_expansion", "volume expansion coefficient (RadonPy MD)",
               "thermal expansion", "1/K", "polymer", source=_RADONPY),
    SourceTask("radonpy_dielectric_const_dc", "dielectric constant, DC (RadonPy QM+MD)",
               "dielectric constant", "1", "polymer", bounds=(1.0, 10.0), source=_RADONPY),
    SourceTask("radonpy_refractive_index", "refractive index (RadonPy QM+MD)",
               "refractive index", "1", "polymer", source=_RADONPY),
    SourceTask("radonpy_thermal_conductivity", "thermal conductivity (RadonPy MD, NEMD)",
               "thermal conductivity", "W/(m K)", "polymer", source=_RADONPY),
    SourceTask("opp2025_ffv", "fractional free volume (OPP 2025)", "fractional free volume",
               "1", "polymer", source=_OPP),
    SourceTask("opp2025_density", "density (OPP 2025)", "density", "g/cm^3", "polymer",
               source=_OPP),
    SourceTask("opp2025_rg", "radius of gyration (OPP 2025)", "radius of gyration", "A",
               "polymer", source=_OPP),
]

#: How each organic source's values were obtained (``SourceTask.fidelity``).
_FIDELITY = {"qm9": "DFT B3LYP/6-31G(2df,p), QM9",
             "radonpy": "all-atom MD (GAFF2), 300 K, RadonPy",
             "radonpy_qm": "DFT polarizabilities + all-atom MD, RadonPy",
             "opp2025": "MD simulation, NeurIPS OPP 2025 labels"}


def _fidelity(source):
    key = source.task.split("_")[0]
    if "QM+MD" in source.property:
        key = "radonpy_qm"
    return replace(source, fidelity=_FIDELITY[key])


MOLECULE_SOURCES = [_fidelity(s) for s in MOLECULE_SOURCES]
POLYMER_SOURCES = [_fidelity(s) for s in POLYMER_SOURCES]

#: Polymer transfer benchmark targets and their physical quantity: never
#: source tasks; sources of the same quantity are not candidates.
POLYMER_TARGETS = {
    "opp2025_tc": "thermal conductivity",
    "opp2025_tg": "glass transition temperature",
    "polyinfo_tg": "glass transition temperature",
}

#: Excluded from every build of the embedded library (recorded in the cards).
EXCLUDED_TARGETS = tuple(BENCHMARK_TARGETS) + tuple(POLYMER_TARGETS)

#: QM9: ~12k training rows, small networks (size budget: the whole molecule
#: + polymer part of the embedded library, 5 models per property, stays under ~8 MB).
MOLECULE_CONFIG = TrainingConfig(n_layers=(1, 3), widths=(32, 64), batch_sizes=(128, 256),
                                 max_epochs=80, patience=10)
#: RadonPy / OPP: 600-6,000 training rows: smaller batches, more epochs.
POLYMER_CONFIG = TrainingConfig(n_layers=(1, 3), widths=(32, 64), batch_sizes=(32, 64),
                                max_epochs=200, patience=20)


def molecule_featurizer():
    """RDKit 2D descriptors of molecules (descriptor names pinned)."""
    from ..descriptors import RDKitDescriptors, rdkit_descriptor_names

    return RDKitDescriptors(descriptors=rdkit_descriptor_names())


def polymer_featurizer():
    """RDKit 2D descriptors of the H-capped repeat unit (descriptor names pinned)."""
    from ..descriptors import RDKitDescriptors, rdkit_descriptor_names

    return RDKitDescriptors(descriptors=rdkit_descriptor_names(), polymer="cap")


#: rows drawn (seed 0) from large polymer tasks before featurizing
SUBSAMPLE = {"opp2025_ffv": 2500}


def _subsampled_data():
    import numpy as np

    from ..datasets import load_task

    data = {}
    for task, n in SUBSAMPLE.items():
        X, y = load_task(task)
        keep = np.sort(np.random.default_rng(0).choice(len(y), size=min(n, len(y)),
                                                       replace=False))
        data[task] = (X.iloc[keep].tolist(), y.iloc[keep].to_numpy())
    return data


def build_organic(out_dir, n_molecule_models=5, n_polymer_models=5, n_jobs=1, progress=True,
                  name="skmdl default library"):
    """Add the molecule and polymer source models to a library (needs ``$SKMDL_DATA``).

    Resumable, and models already in the library (the inorganic ones
    included) are kept untouched.
    """
    from .builder import build

    out = {}
    for kind, sources, featurizer, config, n in (
        ("molecule", MOLECULE_SOURCES, molecule_featurizer(), MOLECULE_CONFIG, n_molecule_models),
        ("polymer", POLYMER_SOURCES, polymer_featurizer(), POLYMER_CONFIG, n_polymer_models),
    ):
        data = _subsampled_data() if kind == "polymer" else None
        out[kind] = build(sources, out_dir, featurizer=featurizer, n_models=n, seed=0,
                          config=config, n_jobs=n_jobs, name=name, progress=progress,
                          excluded=EXCLUDED_TARGETS, data=data)
    return out


def polymer_transfer_exclusions(task):
    """``dict(exclude_tasks=..., exclude_quantities=...)`` for a polymer target task.

    Examples
    --------
    >>> polymer_transfer_exclusions("opp2025_tc")
    {'exclude_tasks': ['opp2025_tc'], 'exclude_quantities': ['thermal conductivity']}
    """
    quantity = POLYMER_TARGETS.get(task)
    return {"exclude_tasks": [task], "exclude_quantities": [quantity] if quantity else []}
