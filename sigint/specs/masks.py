"""Mask checks that any spec row may carry: polygon eye masks, piecewise-linear loss and
crosstalk masks, lane-to-lane skew and the DFE tap ratio.

A polygon mask is fitted on the statistical eye's upper contour like the rectangle and
diamond of :func:`~sigint.timedomain.stateye.contour_mask_fit`: the eye is symmetric about
0 V (its lower edge is the mirror of the upper), so a polygon fits at a centre phase
:math:`c` when, at every time offset :math:`x` it spans, its extent above and below 0 V
(:math:`u(x)` and :math:`-l(x)`) stays under the contour :math:`T(c + x)`. The largest
vertical scale :math:`s` of the polygon that fits is
:math:`\\max_c \\min_x T(c + x)/\\max(u(x), -l(x))`; the fitted mask height is :math:`s`
times the polygon's height, so the check passes when :math:`s \\ge 1`, and a polygon that
is a rectangle gives the rectangle's answer.
"""

from __future__ import annotations

import numpy as np

from .checks import Check

__all__ = ["polygon_mask_fit", "polygon_extent", "curve_checks", "skew_check", "dfe_check"]


def polygon_extent(points, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(upper, lower) voltage of the polygon *points* at time offsets *x* (NaN outside).

    Every edge crossing *x* contributes its voltage there (both ends of a vertical edge).
    """
    pts = np.asarray(points, dtype=float)
    x = np.asarray(x, dtype=float)
    up = np.full(x.shape, -np.inf)
    lo = np.full(x.shape, np.inf)
    for (xa, va), (xb, vb) in zip(pts, np.roll(pts, -1, axis=0)):
        a, b = min(xa, xb), max(xa, xb)
        inside = (x >= a - 1e-12) & (x <= b + 1e-12)
        if not inside.any():
            continue
        if abs(xb - xa) < 1e-15:
            v_hi, v_lo = np.full(x.shape, max(va, vb)), np.full(x.shape, min(va, vb))
        else:
            v = va + (vb - va) * (x - xa) / (xb - xa)
            v_hi = v_lo = v
        up = np.where(inside, np.maximum(up, v_hi), up)
        lo = np.where(inside, np.minimum(lo, v_lo), lo)
    up[~np.isfinite(up)] = np.nan
    lo[~np.isfinite(lo)] = np.nan
    return up, lo


def polygon_mask_fit(phase: np.ndarray, top: np.ndarray, points) -> tuple[float, float]:
    """Tallest vertical scaling of the polygon *points* inside the eye contour *top*.

    Parameters
    ----------
    phase : ndarray, shape (P,)
        Sampling phases, UI (ascending, evenly spaced).
    top : ndarray, shape (P,)
        Upper edge of the eye at the target BER at each phase, V.
    points : sequence of (UI, V)
        Polygon corners, time from the mask's centre.

    Returns
    -------
    (height, centre)
        The fitted mask height (scale x the polygon's height, V; 0 when none fits) and the
        centre phase, UI. The contour is interpolated linearly on a grid 16 times finer
        than the phase step, as for the rectangle and diamond.
    """
    pts = np.asarray(points, dtype=float)
    if phase.size < 2:
        return 0.0, float("nan")
    fine = np.linspace(phase[0], phase[-1], 16 * (phase.size - 1) + 1)
    tf = np.interp(fine, phase, top)
    step = fine[1] - fine[0]
    x0, x1 = float(pts[:, 0].min()), float(pts[:, 0].max())
    n = int(round((x1 - x0) / step)) + 1
    if n > tf.size or n < 2:
        return 0.0, float("nan")
    xs = x0 + np.arange(n) * (x1 - x0) / (n - 1)
    up, lo = polygon_extent(pts, xs)
    env = np.fmax(np.nan_to_num(up, nan=0.0), np.nan_to_num(-lo, nan=0.0))
    inner = env > 1e-15
    from numpy.lib.stride_tricks import sliding_window_view

    win = sliding_window_view(tf, n)
    scale = (win[:, inner] / env[inner]).min(axis=1)
    k = int(np.argmax(scale))
    height = float(pts[:, 1].max() - pts[:, 1].min())
    centre = float(fine[k] + (0.0 - x0) / (x1 - x0) * (n - 1) * step)
    return max(0.0, float(scale[k])) * height, centre


def _ghz(f: float) -> str:
    return f"{f / 1e9:.3g} GHz"


def curve_checks(f: np.ndarray, loss_db: np.ndarray, xt_db: np.ndarray, rate: float,
                 loss_mask=None, xt_mask=None, clause: str = "") -> list[Check]:
    """Piecewise-linear loss (stay above) and crosstalk (stay below) masks of a user spec.

    Each mask is checked at every frequency of the data from its first to its last
    frequency (the curve between points linear in frequency) and at each of its own
    breakpoints inside the data's range, where the channel's response (dB) is interpolated
    linearly in frequency between the two data points around it (as the UCIe checks read
    the loss at fN, :func:`sigint.specs.ucie.vtf_checks`), so that a tight corner of the
    mask between two data frequencies is not missed: it passes when the channel stays on
    its side everywhere. The check reports the frequency where the margin is
    smallest *relative to the mask* (margin / |mask value|, the scale on which checks of
    different units are ranked, :func:`sigint.analysis.lanes.relative_margin`), so that a
    mask starting at 0 dB at DC, which a channel meets there by a margin of about 0 dB,
    is judged where it asks something of the channel rather than ranked limiting at DC; a
    point where the mask is exactly 0 dB counts only if the channel fails there.
    """
    f = np.asarray(f, dtype=float)
    out = []
    for name, mask, y, sign in (("loss_mask", loss_mask, loss_db, 1.0),
                                ("crosstalk_mask", xt_mask, xt_db, -1.0)):
        if mask is None:
            continue
        mf = np.array([p[0] for p in mask])
        mv = np.array([p[1] for p in mask])
        yy = np.asarray(y, dtype=float)
        sel = (f >= mf[0] - 1e-9) & (f <= mf[-1] + 1e-9)
        corners = mf[(mf >= f[0] - 1e-9) & (mf <= f[-1] + 1e-9)]
        if not sel.any() and corners.size == 0:
            continue
        # the corners not on a data frequency, with the response interpolated there
        on_grid = np.isclose(corners[:, None], f[None, :], rtol=0, atol=1e-6).any(axis=1)
        extra = corners[~on_grid]
        fs = np.concatenate([f[sel], extra])
        ys = np.concatenate([yy[sel], np.interp(extra, f, yy)])
        order = np.argsort(fs, kind="stable")
        fs, ys = fs[order], ys[order]
        lim = np.interp(fs, mf, mv)
        m = sign * (ys - lim)
        if not np.isfinite(m).any():
            continue
        passed = bool(np.nanmin(m) >= -1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(lim != 0, m / np.abs(lim), np.where(m < -1e-12, -np.inf, np.inf))
        rel = np.where(np.isfinite(m), rel, np.nan)
        j = int(np.nanargmin(rel)) if np.isfinite(rel).any() or np.any(rel == -np.inf) \
            else int(np.nanargmin(m))
        out.append(Check(
            name=name, passed=passed, value=float(ys[j]),
            limit=float(lim[j]), margin=float(m[j]), unit="dB",
            relation=">=" if sign > 0 else "<=", where=f"at {_ghz(fs[j])}",
            frequency_hz=float(fs[j]),
            detail=(f"{'loss above' if sign > 0 else 'crosstalk below'} the spec's piecewise-"
                    f"linear mask from {_ghz(mf[0])} to {_ghz(mf[-1])}"
                    + (f" ({clause})" if clause else ""))))
    return out


def skew_check(delays_s: np.ndarray, names: list[str], rate: float, limit_ui: float,
               clause: str = "") -> Check:
    """Lane-to-lane skew: every lane's delay within +-limit of the lanes' centre.

    The centre is the middle of the spread, (max + min)/2 (UCIe 3.0 Table 5-16 states
    the tolerance about the centre of the distribution, and its span, 2 x limit, bounds
    the mismatch of any two lanes); the value is the largest distance from it, UI.
    """
    d = np.asarray(delays_s, dtype=float) * rate
    centre = 0.5 * (d.max() + d.min())
    dev = np.abs(d - centre)
    k = int(np.argmax(dev))
    worst = float(dev[k])
    return Check(
        name="lane_skew", passed=bool(worst <= limit_ui + 1e-12), value=worst, limit=limit_ui,
        margin=limit_ui - worst, unit="UI", relation="<=",
        where=f"{names[k]}, {worst / rate * 1e12:.2f} ps from the lanes' centre",
        detail=(f"group delay at low frequency of each lane; spread {float(d.max() - d.min()):.4f} "
                f"UI against the span {2 * limit_ui:g} UI" + (f" ({clause})" if clause else "")))


def dfe_check(h1_over_h0: float, limit: float, clause: str = "") -> Check:
    """The first post-cursor over the main cursor at the sampling phase, against *limit*."""
    v = abs(float(h1_over_h0))
    return Check(name="dfe_h1_h0", passed=bool(v < limit), value=v, limit=limit,
                 margin=limit - v, unit="", relation="<=", where="at the best sampling phase",
                 detail=("|h1/h0| of the equalized pulse the 1-tap DFE cancels"
                         + (f" ({clause})" if clause else "")))


def pitch_group_check(groups: dict, rate: float, pitch_m: float, clause: str = "") -> Check | None:
    """The bump pitch against the finest pitch allowed at *rate* by a spec's pitch groups.

    Parameters
    ----------
    groups : dict
        ``{"25-30 um": 24, ...}``: bump-pitch ranges and the highest rate (GT/s) each
        supports (UCIe 3.0 Table 1-6 for the advanced package).
    rate : float
        Symbols/s.
    pitch_m : float
        The channel's micro-bump pitch, m.
    clause : str
        Where the groups come from, for the detail.

    Returns
    -------
    Check or None
        ``bump_pitch_group`` (value and limit in um; passes when the pitch lies in a group
        whose highest rate reaches *rate*); None when *rate* is above every group's.
    """
    import re

    rows = []
    for span, top in groups.items():
        m = re.fullmatch(r"\s*([\d.]+)\s*-\s*([\d.]+)\s*um\s*", str(span))
        if m is None:
            raise ValueError(f"pitch group {span!r}: expected a range like '25-30 um'")
        rows.append((float(m.group(1)), float(m.group(2)), float(top)))
    p = round(pitch_m * 1e6, 6)          # um, without the float noise of 25e-6 * 1e6
    g = rate / 1e9
    ok = [(lo, hi) for lo, hi, top in rows if top >= g - 1e-9]
    if not ok:
        return None
    lo_min = min(lo for lo, _ in ok)
    hi_max = max(hi for _, hi in ok)
    inside = any(lo - 0.5 <= p <= hi + 0.5 for lo, hi in ok)    # groups are whole um
    passed = bool(inside)
    if p < lo_min:
        margin, limit, rel = p - lo_min, lo_min, ">="
    elif p > hi_max:
        margin, limit, rel = hi_max - p, hi_max, "<="
    else:
        margin, limit, rel = p - lo_min, lo_min, ">="
    top_at = next((top for lo, hi, top in rows if lo - 0.5 <= p <= hi + 0.5), None)
    where = (f"bump pitch {p:g} um: its group reaches {top_at:g} GT/s" if top_at is not None
             else f"bump pitch {p:g} um: outside every group")
    return Check(name="bump_pitch_group", passed=passed, value=p, limit=limit,
                 margin=margin, unit="um", relation=rel, where=where,
                 detail=(f"the micro-bump pitch must lie in a pitch group that supports "
                         f"{g:g} GT/s ({lo_min:g}-{hi_max:g} um)"
                         + (f"; {clause}" if clause else "")))
