"""Recipes: the source tasks of skmdl's libraries and how their data are cleaned.

``DEFAULT_SOURCES`` are the inorganic source properties of the embedded
default library (``ModelLibrary.default()``), built from ``$SKMDL_DATA`` by
``benchmarks/build_default_library.py``. The benchmark transfer targets
(``builder.BENCHMARK_TARGETS``) are excluded.

Cleaning rule, applied by ``builder.prepare_task``: rows with a non-finite
target or an unparsable formula are dropped, then rows outside the physical
bounds below. Bounds remove data-entry outliers only, e.g. OQMD formation
enthalpies with |dHf| > 5 eV/atom (values down to -199 eV/atom occur), total
energies outside [-15, 5] eV/atom, volumes above 150 A^3/atom.
"""

from .builder import SourceTask, TrainingConfig

_MP = "Materials Project (CC-BY 4.0), CrabNet benchmark split"
_MB = "Matbench v0.1, Dunn et al. npj Comput. Mater. 6, 138 (2020) (CC-BY 4.0)"
_OQMD = "OQMD, Saal et al. JOM 65, 1501 (2013) (CC-BY 4.0), CrabNet benchmark split"
_AFLOW = "AFLOW, Curtarolo et al. (CC-BY 4.0), CrabNet benchmark split"
_CRIT = "Bartel et al. npj Comput. Mater. 6, 97 (2020), CrabNet benchmark split"

DEFAULT_SOURCES = [
    SourceTask("oqmd_formation_enthalpy", "formation enthalpy (OQMD)", "formation energy",
               "eV/atom", bounds=(-5.0, 5.0), source=_OQMD),
    SourceTask("oqmd_energy_per_atom", "total energy (OQMD)", "total energy", "eV/atom",
               bounds=(-15.0, 5.0), source=_OQMD),
    SourceTask("oqmd_bandgap", "band gap (OQMD)", "band gap", "eV", bounds=(0.0, 20.0),
               source=_OQMD),
    SourceTask("oqmd_volume_per_atom", "volume per atom (OQMD)", "volume per atom",
               "A^3/atom", bounds=(0.0, 150.0), source=_OQMD),
    SourceTask("aflow_energy_atom", "total energy (AFLOW)", "total energy", "eV/atom",
               bounds=(-15.0, 5.0), source=_AFLOW),
    SourceTask("aflow_egap", "band gap (AFLOW)", "band gap", "eV", bounds=(0.0, 20.0),
               source=_AFLOW),
    SourceTask("aflow_ael_bulk_modulus_vrh", "bulk modulus VRH (AFLOW AEL)", "bulk modulus",
               "GPa", bounds=(0.0, 1000.0), source=_AFLOW),
    SourceTask("aflow_ael_shear_modulus_vrh", "shear modulus VRH (AFLOW AEL)", "shear modulus",
               "GPa", bounds=(0.0, 1000.0), source=_AFLOW),
    SourceTask("mp_bulk_modulus", "bulk modulus (MP)", "bulk modulus", "GPa",
               bounds=(0.0, 1000.0), source=_MP),
    SourceTask("mp_shear_modulus", "shear modulus (MP)", "shear modulus", "GPa",
               bounds=(0.0, 1000.0), source=_MP),
    SourceTask("mp_e_hull", "energy above hull (MP)", "energy above hull", "eV/atom",
               bounds=(0.0, 10.0), source=_MP),
    SourceTask("mp_mu_b", "magnetic moment (MP)", "magnetic moment", "mu_B/cell",
               bounds=(-300.0, 300.0), source=_MP),
    SourceTask("critexam_ef", "formation enthalpy (Bartel, MP)", "formation energy", "eV/atom",
               bounds=(-5.0, 5.0), source=_CRIT),
    SourceTask("critexam_ed", "decomposition enthalpy (Bartel, MP)", "decomposition enthalpy",
               "eV/atom", bounds=(-5.0, 5.0), source=_CRIT),
    SourceTask("matbench_mp_e_form", "formation energy (matbench_mp_e_form)",
               "formation energy", "eV/atom", bounds=(-5.0, 5.0), source=_MB),
    SourceTask("matbench_mp_gap", "band gap PBE (matbench_mp_gap)", "band gap", "eV",
               bounds=(0.0, 20.0), source=_MB),
    SourceTask("matbench_log_kvrh", "log10 bulk modulus (matbench_log_kvrh)", "bulk modulus",
               "log10 GPa", source=_MB),
    SourceTask("matbench_log_gvrh", "log10 shear modulus (matbench_log_gvrh)", "shear modulus",
               "log10 GPa", source=_MB),
    SourceTask("matbench_dielectric", "refractive index (matbench_dielectric)",
               "refractive index", "1", source=_MB),
    SourceTask("matbench_perovskites", "perovskite formation energy (matbench_perovskites)",
               "formation energy", "eV/cell", source=_MB),
]

#: Training settings of the embedded library: widths capped at 128 (size
#: budget of the package), at most 20k training rows per task and 60 epochs
#: (build time on a 2-core machine).
DEFAULT_CONFIG = TrainingConfig(widths=(32, 64, 128), batch_sizes=(256, 512), max_train=20000,
                                max_epochs=60, patience=8)

def build_default(out_dir, n_models=5, n_jobs=1, client=None, progress=True, sources=None):
    """Build the default library (needs ``$SKMDL_DATA``); resumable."""
    from ..descriptors import CompositionFeaturizer
    from .builder import build

    return build(
        DEFAULT_SOURCES if sources is None else sources,
        out_dir,
        featurizer=CompositionFeaturizer(elements="magpie", stats="all", stoichiometry=True),
        n_models=n_models,
        seed=0,
        config=DEFAULT_CONFIG,
        n_jobs=n_jobs,
        client=client,
        name="skmdl default library",
        progress=progress,
    )


#: Physical quantity (or quantities) of the transfer benchmark targets
#: (learning curves, LTC extrapolation, HEA stability): a source model of the
#: same quantity, or trained on the target task itself, must not be a
#: candidate (no leakage of the target property). For the HEA formation
#: enthalpies every energy-like source is excluded: a total energy, hull
#: distance or decomposition enthalpy of the same compositions is the
#: formation enthalpy up to elemental references. The matbench targets (steels, expt_gap, ...) are excluded from
#: the library as tasks; DFT band gaps stay legitimate sources for the
#: experimental band gap.
TARGET_QUANTITIES = {
    "aflow_ael_bulk_modulus_vrh": "bulk modulus",
    "aflow_ael_shear_modulus_vrh": "shear modulus",
    "mp_mu_b": "magnetic moment",
    "matbench_jdft2d": "exfoliation energy",
    "matbench_phonons": "phonon frequency",
    "matbench_dielectric": "refractive index",
    "aflow_agl_thermal_conductivity_300k": "thermal conductivity",
    "oqmd_formation_enthalpy": ("formation energy", "total energy", "decomposition enthalpy",
                                "energy above hull"),
}


def transfer_exclusions(task):
    """``dict(exclude_tasks=..., exclude_quantities=...)`` for a target task.

    Examples
    --------
    >>> transfer_exclusions("matbench_phonons")
    {'exclude_tasks': ['matbench_phonons'], 'exclude_quantities': ['phonon frequency']}
    """
    quantity = TARGET_QUANTITIES.get(task, ())
    quantities = [quantity] if isinstance(quantity, str) else list(quantity)
    return {"exclude_tasks": [task], "exclude_quantities": quantities}


def transfer_sources(task, library=None, kind="inorganic"):
    """Ids of the library's models of ``kind`` allowed as transfer sources for ``task``.

    The same candidates ``TransferRegressor(**transfer_exclusions(task))``
    screens (default library when ``library`` is None).

    Examples
    --------
    >>> from skmdl.library import ModelLibrary
    >>> lib = ModelLibrary.default()
    >>> ids = transfer_sources("matbench_phonons", lib)
    >>> len(ids) > 0, any(lib.quantity(i) == "phonon frequency" for i in ids)
    (True, False)
    """
    from .library import ModelLibrary

    lib = ModelLibrary.default() if library is None else library
    return lib.search(kind=kind, **transfer_exclusions(task))["id"].tolist()
