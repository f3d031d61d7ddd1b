"""Results as :class:`xarray.Dataset` with named dimensions and ``units`` attributes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.analyze import AnalysisResult

__all__ = ["result_dataset", "save_dataset"]


def result_dataset(r: AnalysisResult):
    """VTFs, pulse responses, the statistical eye and its readings.

    Complex transfers are stored as real and imaginary parts (netCDF has no complex type).
    """
    import xarray as xr

    e, pr, vtf = r.eye, r.pulses, r.vtf
    agg = list(vtf.aggressor_names)
    ds = xr.Dataset(
        coords={
            "frequency": ("frequency", vtf.f, {"units": "Hz"}),
            "aggressor": ("aggressor", np.array(agg, dtype=str)),
            "time": ("time", pr.t, {"units": "s"}),
            "phase": ("phase", e.phase_ui, {"units": "UI",
                                            "long_name": "sampling phase from the pulse peak"}),
            "voltage": ("voltage", e.v, {"units": "V"}),
            "ber_level": ("ber_level", e.levels, {"units": "1"}),
        }
    )
    ds["vtf_loss"] = ("frequency", vtf.loss_db, {"units": "dB", "long_name": "VTF loss 20log10|Vr/Vs|"})
    ds["vtf_crosstalk"] = ("frequency", vtf.xt_db(r.options.n_aggressors),
                           {"units": "dB", "long_name": "power-sum crosstalk"})
    ds["vtf_victim_real"] = ("frequency", vtf.victim.real, {"units": "V/V"})
    ds["vtf_victim_imag"] = ("frequency", vtf.victim.imag, {"units": "V/V"})
    ds["vtf_aggressor_real"] = (("aggressor", "frequency"), vtf.aggressors.real, {"units": "V/V"})
    ds["vtf_aggressor_imag"] = (("aggressor", "frequency"), vtf.aggressors.imag, {"units": "V/V"})
    ds["pulse_victim"] = ("time", pr.victim, {"units": "V/V",
                                              "long_name": "response to a 1 V, 1 UI source pulse"})
    ds["pulse_aggressor"] = (("aggressor", "time"), pr.aggressors, {"units": "V/V"})
    ds["eye_pmf"] = (("phase", "voltage"), e.pmf_one,
                     {"units": "1", "long_name": "probability of each voltage bin given a 1"})
    ds["eye_contour"] = (("ber_level", "phase"), e.top,
                         {"units": "V", "long_name": "upper inner eye edge at each BER"})
    ds["bathtub"] = ("phase", e.ber_at_zero, {"units": "1", "long_name": "BER at 0 V"})
    ds["worst_case_edge"] = ("phase", r.pd_top, {"units": "V"})
    ds.attrs.update({
        "title": f"sigint analyze {r.source}",
        "source": str(r.source),
        "backend": r.backend.name,
        "rate": r.rate, "rate_units": "1/s",
        "ber": r.ber,
        "victim": r.victim,
        "mapping": r.port_map.describe(),
        "eye_height_v": r.eye.eye_height,
        "eye_width_ui": r.eye.eye_width,
        "vtf_loss_db_at_nyquist": r.loss_db_at_nyquist,
        "vtf_xt_db_at_nyquist": r.xt_db_at_nyquist if np.isfinite(r.xt_db_at_nyquist) else -999.0,
        "spec": r.row.title if r.row else "none",
        "passed": "none" if r.passed is None else str(bool(r.passed)).lower(),
        "checks_json": json.dumps([c.as_dict() for c in r.checks]),
    })
    return ds


def save_dataset(ds, path: str | Path) -> Path:
    """Write *ds* as netCDF-4 (h5netcdf engine); errors name the file and the fix."""
    p = Path(path)
    if p.suffix.lower() not in (".nc", ".nc4", ".netcdf"):
        raise InputError(f"--out {path}: write the dataset to a .nc file")
    if not p.parent.exists():
        raise InputError(f"--out {path}: directory {p.parent} does not exist; create it first")
    try:
        ds.to_netcdf(p, engine="h5netcdf")
    except (OSError, PermissionError) as exc:
        raise InputError(f"--out {path}: cannot be written ({exc}); check the path and its "
                         "permissions") from None
    return p
