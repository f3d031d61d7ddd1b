"""Specs: the spec library (:mod:`sigint.specs.library`), its data files (``data/``), the
UCIe checks (:mod:`sigint.specs.ucie`) and the generic mask checks (:mod:`sigint.specs.masks`).

Only names live here, so that the command line can check a spec name without the heavy
imports.
"""

#: Spec names sigint ships, and their data files (in ``sigint/specs/data``).
BUILTIN_SPECS = {"ucie": "ucie-3.0.yaml", "ucie-3d": "ucie-3d.yaml", "bow": "bow.yaml",
                 "aib": "aib-2.0.yaml"}
