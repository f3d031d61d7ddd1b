"""PNG figures of an analysis: eye with mask and BER contours, VTF masks, bathtubs, pulses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figures import figure_dir, pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..analyze import AnalysisResult

__all__ = ["plot_analysis"]




def _title(r: AnalysisResult) -> str:
    return f"{Path(r.source).name} - {r.victim}, {r.rate / 1e9:g} GT/s"


def plot_eye(r: AnalysisResult, path: Path) -> Path:
    """Waveform eye (density) and statistical eye, with BER contours and the spec mask."""
    plt = pyplot()
    e = r.eye
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), constrained_layout=True)
    ax = axes[0]
    vmax = float(np.abs(e.v).max())
    if r.wave is not None:
        tr = r.wave.traces
        t = np.broadcast_to(r.wave.trace_t_ui, tr.shape)
        h, xe, ye = np.histogram2d(t.ravel(), tr.ravel(), bins=(r.wave.trace_t_ui.size, 200),
                                   range=((t.min(), t.max()), (-vmax, vmax)))
        ax.pcolormesh(xe, ye * 1e3, np.log10(h.T + 1), cmap="inferno", shading="auto")
        ax.set_title("bit-by-bit waveform eye (PRBS-31)")
    else:
        ax.set_title("bit-by-bit waveform eye: not run (--bits 0)")
    for qi, q in enumerate(e.levels):
        bold = np.isclose(q, e.ber)
        kw = dict(color="cyan" if bold else "0.7", lw=1.6 if bold else 0.6)
        ax.plot(e.phase_ui, e.top[qi] * 1e3, **kw)
        ax.plot(e.phase_ui, -e.top[qi] * 1e3, **kw)
    _mask(ax, r)
    ax.set_xlabel("time from the pulse peak (UI)")
    ax.set_ylabel("voltage (mV)")
    ax.set_ylim(-vmax * 1e3, vmax * 1e3)
    # statistical eye density
    ax = axes[1]
    both = 0.5 * (e.pmf_one + e.pmf_one[:, ::-1])
    img = np.log10(np.maximum(both.T, 1e-40))
    pc = ax.pcolormesh(e.phase_ui, e.v * 1e3, img, cmap="viridis", shading="auto",
                       vmin=max(-40, np.log10(e.ber) - 5), vmax=0)
    fig.colorbar(pc, ax=ax, label="log10 probability per bin")
    for qi, q in enumerate(e.levels):
        bold = np.isclose(q, e.ber)
        ax.plot(e.phase_ui, e.top[qi] * 1e3, color="w" if bold else "0.8",
                lw=1.6 if bold else 0.5)
        ax.plot(e.phase_ui, -e.top[qi] * 1e3, color="w" if bold else "0.8",
                lw=1.6 if bold else 0.5)
    _mask(ax, r)
    ax.set_title(f"statistical eye: height {e.eye_height * 1e3:.1f} mV, width "
                 f"{e.eye_width:.3f} UI at BER {r.ber:.0e}")
    ax.set_xlabel("sampling phase from the pulse peak (UI)")
    ax.set_ylabel("voltage (mV)")
    fig.suptitle(_title(r) + f" (contours: BER {e.levels[0]:.0e} ... {e.levels[-1]:.0e})")
    return save_figure(fig, path)


def _mask(ax, r: AnalysisResult) -> None:
    if r.row is None or r.mask_centre_ui is None or not np.isfinite(r.mask_centre_ui):
        if r.row is not None:
            c = float(r.eye.phase_ui[r.eye.best])
        else:
            return
    else:
        c = r.mask_centre_ui
    w, h = r.row.eye_width, r.row.eye_height
    ok = all(ch.passed for ch in r.checks if ch.name == "eye_mask")
    xs = [c - w / 2, c + w / 2, c + w / 2, c - w / 2, c - w / 2]
    ys = np.array([-h / 2, -h / 2, h / 2, h / 2, -h / 2]) * 1e3
    ax.plot(xs, ys, color="lime" if ok else "red", lw=2, label="UCIe eye mask")
    ax.legend(loc="upper right", fontsize=8)


def plot_vtf(r: AnalysisResult, path: Path) -> Path:
    """VTF loss and crosstalk against frequency, with the UCIe masks up to Nyquist."""
    plt = pyplot()
    v = r.vtf
    f = v.f / 1e9
    fn = r.nyquist / 1e9
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    ax = axes[0]
    ax.plot(f, v.loss_db, color="C0", label="VTF loss L(f)")
    if r.row is not None:
        l0 = float(v.loss_db[0])
        ax.plot([0, fn], [l0, r.row.loss_fn_db], "r--", label="UCIe mask (loss must stay above)")
    ax.axvline(fn, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("frequency (GHz)")
    ax.set_ylabel("dB")
    lo = max(float(np.min(v.loss_db[f <= 2 * fn])) - 3, -80) if np.any(f <= 2 * fn) else -40
    ax.set_ylim(lo, 3)
    ax.set_xlim(0, min(f[-1], 4 * fn))
    ax.set_title(f"loss: {r.loss_db_at_nyquist:.2f} dB at fN = {fn:g} GHz")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    if v.aggressors.shape[0]:
        with np.errstate(divide="ignore"):
            for a in range(v.aggressors.shape[0]):
                ax.plot(f, 20 * np.log10(np.maximum(np.abs(v.aggressors[a]), 1e-12)),
                        lw=0.5, color="0.6")
        ax.plot(f, v.xt_db(r.options.n_aggressors), color="C3",
                label=f"power sum ({min(r.options.n_aggressors, v.aggressors.shape[0])} largest)")
        if r.row is not None:
            lim = r.row.xt_limit_db(r.loss_db_at_nyquist)
            ax.plot([0, fn], [lim, lim], "r--", label=f"UCIe limit {lim:.1f} dB")
        ax.set_title(f"crosstalk: {r.xt_db_at_nyquist:.2f} dB at fN")
        ax.legend(fontsize=8)
    else:
        ax.set_title("crosstalk: no aggressors")
    ax.axvline(fn, color="0.5", lw=0.8, ls=":")
    ax.set_xlim(0, min(f[-1], 4 * fn))
    ax.set_ylim(-100, 0)
    ax.set_xlabel("frequency (GHz)")
    ax.set_ylabel("dB")
    ax.grid(alpha=0.3)
    fig.suptitle(_title(r) + " - voltage transfer functions")
    return save_figure(fig, path)


def plot_bathtub(r: AnalysisResult, path: Path) -> Path:
    """Horizontal bathtub (BER at 0 V against phase) and vertical bathtub at the best phase."""
    plt = pyplot()
    e = r.eye
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    ax = axes[0]
    ax.semilogy(e.phase_ui, np.maximum(e.ber_at_zero, 1e-300), label="statistical")
    if r.wave is not None:
        emp = r.wave.ber_at_zero()
        ok = emp > 0
        ax.semilogy(e.phase_ui[ok], emp[ok], "o", ms=3, label="bit-by-bit")
    ax.axhline(r.ber, color="r", ls="--", lw=0.8, label=f"target {r.ber:.0e}")
    ax.set_ylim(max(1e-40, r.ber * 1e-3), 1)
    ax.set_xlabel("sampling phase from the pulse peak (UI)")
    ax.set_ylabel("BER at 0 V")
    ax.set_title(f"horizontal bathtub: width {e.eye_width:.3f} UI")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = axes[1]
    v, b = e.vertical_bathtub()
    ax.semilogy(v * 1e3, b, label="statistical (top edge)")
    ax.axhline(r.ber, color="r", ls="--", lw=0.8)
    ax.set_ylim(max(1e-40, r.ber * 1e-3), 1)
    ax.set_xlabel("threshold (mV)")
    ax.set_ylabel("P(a 1 falls below)")
    ax.set_title(f"vertical bathtub at the best phase: height {e.eye_height * 1e3:.1f} mV")
    ax.grid(alpha=0.3, which="both")
    fig.suptitle(_title(r) + " - bathtubs")
    return save_figure(fig, path)


def plot_pulse(r: AnalysisResult, path: Path) -> Path:
    """Victim and aggressor pulse responses with the victim's cursors marked."""
    plt = pyplot()
    pr = r.pulses
    t_ui = (pr.t - pr.t[pr.main]) * pr.rate
    fig, ax = plt.subplots(figsize=(11, 4.2), constrained_layout=True)
    sel = (t_ui > -8) & (t_ui < 40)
    ax.plot(t_ui[sel], pr.victim[sel] * 1e3, label="victim")
    for a in range(min(pr.aggressors.shape[0], 8)):
        ax.plot(t_ui[sel], pr.aggressors[a][sel] * 1e3, lw=0.7,
                label=r.vtf.aggressor_names[a] if a < 5 else None)
    k = np.arange(-8, 41)
    idx = pr.main + k * pr.samples_per_ui
    ok = (idx >= 0) & (idx < pr.victim.size)
    ax.plot(k[ok], pr.victim[idx[ok]] * 1e3, "k.", ms=4, label="cursors")
    ax.set_xlabel("time from the pulse peak (UI)")
    ax.set_ylabel("mV per V of source")
    ax.set_title(_title(r) + " - pulse responses")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_analysis(r: AnalysisResult, directory: str | Path) -> list[Path]:
    """Write eye.png, vtf.png, bathtub.png and pulse.png into *directory* (created)."""
    d = figure_dir(directory)
    out = [plot_eye(r, d / "eye.png"), plot_vtf(r, d / "vtf.png"),
           plot_bathtub(r, d / "bathtub.png"), plot_pulse(r, d / "pulse.png")]
    return out
