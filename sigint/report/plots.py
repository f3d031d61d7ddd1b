"""PNG figures of an analysis: eye with mask and BER contours, VTF masks, bathtubs, pulses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figures import figure_dir, pyplot, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from ..analysis.analyze import AnalysisResult

__all__ = ["plot_analysis"]




def _title(r: AnalysisResult) -> str:
    return f"{Path(r.source).name} - {r.victim}, {r.rate / 1e9:g} GT/s"


def plot_eye(r: AnalysisResult, path: Path) -> Path:
    """Waveform eye (density) and statistical eye, with BER contours and the spec mask."""
    plt = pyplot()
    e = r.eye
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.0), layout="constrained")
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
    handles = _contours(ax, r)
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
    _contours(ax, r)
    _mask(ax, r)
    ax.set_title(f"statistical eye: height {e.eye_height * 1e3:.1f} mV, width "
                 f"{e.eye_width:.3f} UI at BER {r.ber:.0e}")
    ax.set_xlabel("sampling phase from the pulse peak (UI)")
    ax.set_ylabel("voltage (mV)")
    fig.suptitle(_title(r) + " - eye and BER contours")
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 7),
                   fontsize=8, title="BER contours (eye height at the best phase); bold: target")
    return save_figure(fig, path)


def _contours(ax, r: AnalysisResult) -> list:
    """Draw the BER contours, one colour per level; return legend handles naming each level."""
    plt = pyplot()
    e = r.eye
    n = len(e.levels)
    cmap = plt.get_cmap("cool")
    handles = []
    for qi, q in enumerate(e.levels):
        bold = bool(np.isclose(q, e.ber, rtol=1e-6, atol=0.0))
        kw = dict(color=cmap(qi / max(1, n - 1)), lw=2.2 if bold else 0.9)
        (line,) = ax.plot(e.phase_ui, e.top[qi] * 1e3, **kw)
        ax.plot(e.phase_ui, -e.top[qi] * 1e3, **kw)
        h = 2 * float(e.top[qi][e.best])
        line.set_label(f"{q:.0e}: {h * 1e3:.1f} mV" if np.isfinite(h) else f"{q:.0e}")
        handles.append(line)
    return handles


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
    if r.row.mask_shape == "polygon":
        pts = np.array(list(r.row.mask.points) + [r.row.mask.points[0]], dtype=float)
        xs, ys = c + pts[:, 0], pts[:, 1] * 1e3
    elif r.row.mask_shape == "diamond":
        xs = [c - w / 2, c, c + w / 2, c, c - w / 2]
        ys = np.array([0.0, h / 2, 0.0, -h / 2, 0.0]) * 1e3
    else:
        xs = [c - w / 2, c + w / 2, c + w / 2, c - w / 2, c - w / 2]
        ys = np.array([-h / 2, -h / 2, h / 2, h / 2, -h / 2]) * 1e3
    (mask,) = ax.plot(xs, ys, color="lime" if ok else "red", lw=2,
                      label=f"{r.row.spec.title} eye mask")
    ax.legend(handles=[mask], loc="upper right", fontsize=8)


def _check(r: AnalysisResult, name: str):
    return next((c for c in r.checks if c.name == name), None)


def _dominant(r: AnalysisResult, k: int = 3) -> list[int]:
    """Indices of the *k* aggressors with the largest VTF from DC to fN, largest first."""
    v = r.vtf
    band = v.f <= r.nyquist * (1 + 1e-12)
    peak = np.abs(v.aggressors[:, band]).max(axis=1)
    return [int(i) for i in np.argsort(peak)[::-1][:k]]


def plot_vtf(r: AnalysisResult, path: Path) -> Path:
    """VTF loss and crosstalk against frequency, with the UCIe masks up to Nyquist.

    The checked points (the smallest loss margin, the worst crosstalk) are marked; the
    three largest aggressors are drawn in colour and named, the others in grey.
    """
    plt = pyplot()
    v = r.vtf
    f = v.f / 1e9
    fn = r.nyquist / 1e9
    fmax = min(f[-1], 4 * fn)
    shown = f <= fmax
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    ax = axes[0]
    ax.plot(f, v.loss_db, color="C0", label="VTF loss L(f)")
    if r.row is not None and r.row.data.loss_mask is not None:
        pts = np.array(r.row.data.loss_mask, dtype=float)
        ax.plot(pts[:, 0] / 1e9, pts[:, 1], "r--", label="spec loss mask (loss must stay above)")
    if r.row is not None and r.row.has_vtf:
        l0 = float(v.loss_db[0])
        ax.plot([0, fn], [l0, r.row.loss_fn_db], "r--", label="UCIe mask (loss must stay above)")
        c = _check(r, "vtf_loss")
        if c is not None and c.frequency_hz is not None:
            ax.plot(c.frequency_hz / 1e9, c.value, "o", mfc="none",
                    color="C2" if c.passed else "r", ms=8,
                    label=f"smallest margin {c.margin:.3g} dB at {c.frequency_hz / 1e9:.3g} GHz")
    ax.axvline(fn, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("frequency (GHz)")
    ax.set_ylabel("dB")
    y = v.loss_db[shown]
    ax.set_ylim(max(float(y.min()) - 1.0, -120.0), max(float(y.max()), 0.0) + 1.0)
    ax.set_xlim(0, fmax)
    ax.set_title(f"loss: {r.loss_db_at_nyquist:+.2f} dB at fN = {fn:g} GHz")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    if v.aggressors.shape[0]:
        top = _dominant(r)
        with np.errstate(divide="ignore"):
            mag = 20 * np.log10(np.maximum(np.abs(v.aggressors), 1e-12))
        for a in range(v.aggressors.shape[0]):
            if a not in top:
                ax.plot(f, mag[a], lw=0.5, color="0.7")
        ax.plot([], [], lw=0.5, color="0.7", label=f"other aggressors ({v.aggressors.shape[0] - len(top)})")
        xt = v.xt_db(r.options.n_aggressors)
        ax.plot(f, xt, color="C3", lw=2.2, alpha=0.55,
                label=f"power sum ({min(r.options.n_aggressors, v.aggressors.shape[0])} largest)")
        # the largest is drawn last, so that an equal neighbour (a symmetric bus) cannot hide it
        for rank in range(len(top) - 1, -1, -1):
            a = top[rank]
            same = rank > 0 and np.allclose(mag[a], mag[top[0]], atol=0.05)
            ax.plot(f, mag[a], lw=2.0 if rank == 0 else 1.1, color=f"C{rank + 4}",
                    ls="--" if same else "-",
                    label=f"{v.aggressor_names[a]} ({v.aggressor_kinds[a]})"
                    + (", largest" if rank == 0 else "")
                    + (f", equal to {v.aggressor_names[top[0]]}" if same else ""))
        if r.row is not None and r.row.has_vtf:
            lim = r.row.xt_limit_db(r.loss_db_at_nyquist)
            ax.plot([0, fn], [lim, lim], "r--", label=f"UCIe limit {lim:.1f} dB")
        if r.row is not None and r.row.data.crosstalk_mask is not None:
            pts = np.array(r.row.data.crosstalk_mask, dtype=float)
            ax.plot(pts[:, 0] / 1e9, pts[:, 1], "r--", label="spec crosstalk mask")
        c = _check(r, "vtf_crosstalk")
        band = v.f <= r.nyquist * (1 + 1e-12)
        j = int(np.argmax(np.where(band, xt, -np.inf)))
        ax.plot(f[j], xt[j], "o", mfc="none", ms=8,
                color="r" if c is not None and not c.passed else "k",
                label=f"worst to fN {xt[j]:+.1f} dB at {f[j]:.3g} GHz")
        ax.set_title(f"crosstalk: worst {xt[j]:+.2f} dB at {f[j]:.3g} GHz, "
                     f"{r.xt_db_at_nyquist:+.2f} dB at fN")
        lo = float(np.min(xt[shown & np.isfinite(xt)])) if np.any(np.isfinite(xt)) else -100
        ax.set_ylim(max(min(lo, float(np.max(xt[shown]))) - 20, -140), 0)
        h, lab = ax.get_legend_handles_labels()
        order = sorted(range(len(lab)), key=lambda k: (", largest" not in lab[k],
                                                       "other aggressors" in lab[k]))
        ax.legend([h[k] for k in order], [lab[k] for k in order], fontsize=7, loc="lower right")
    else:
        ax.set_title("crosstalk: no aggressors")
        ax.set_ylim(-100, 0)
    ax.axvline(fn, color="0.5", lw=0.8, ls=":")
    ax.set_xlim(0, fmax)
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
    """Victim and largest aggressor pulse responses at the real swing, cursors marked.

    The span follows the pulse: from a few UI before it rises above 1 % of its peak to a
    few UI after it last exceeds 1 %. Voltages are the response at the receiver to one bit
    of the Tx amplitude A (half the swing), the scale of the eye.
    """
    plt = pyplot()
    pr = r.pulses
    amp = r.eye.amplitude
    t_ui = (pr.t - pr.t[pr.main]) * pr.rate
    fig, ax = plt.subplots(figsize=(11, 4.2), constrained_layout=True)
    big = np.flatnonzero(np.abs(pr.victim) > 0.01 * np.abs(pr.victim).max())
    t0 = max(float(t_ui[big[0]]) - 3, float(t_ui[0])) if big.size else -5.0
    t1 = min(float(t_ui[big[-1]]) + 4, float(t_ui[-1])) if big.size else 20.0
    t0, t1 = min(t0, -2.0), max(t1, 4.0)
    sel = (t_ui >= t0) & (t_ui <= t1)
    ax.plot(t_ui[sel], pr.victim[sel] * amp * 1e3, lw=1.8, label=f"victim {r.victim}")
    if pr.aggressors.shape[0]:
        peak = np.abs(pr.aggressors).max(axis=1)
        for a in np.argsort(peak)[::-1][:4]:
            ax.plot(t_ui[sel], pr.aggressors[a][sel] * amp * 1e3, lw=0.9,
                    label=f"{r.vtf.aggressor_names[a]} (peak {peak[a] * amp * 1e3:.1f} mV)")
        if pr.aggressors.shape[0] > 4:
            ax.plot([], [], " ", label=f"+ {pr.aggressors.shape[0] - 4} smaller aggressors")
    k = np.arange(int(np.floor(t0)), int(np.ceil(t1)) + 1)
    idx = pr.main + k * pr.samples_per_ui
    ok = (idx >= 0) & (idx < pr.victim.size)
    ax.plot(k[ok], pr.victim[idx[ok]] * amp * 1e3, "k.", ms=5, label="victim cursors")
    ax.set_xlim(t0, t1)
    ax.set_xlabel("time from the pulse peak (UI)")
    ax.set_ylabel(f"mV at the Rx for one bit of A = {amp * 1e3:g} mV")
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
