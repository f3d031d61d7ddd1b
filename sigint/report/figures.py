"""Shared figure plumbing: a headless pyplot and an output directory made safely."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

__all__ = ["pyplot", "figure_dir", "save_figure"]


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def figure_dir(directory: str | Path) -> Path:
    """Create *directory* for --plot, or say in one sentence why it cannot be."""
    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--plot {directory}: cannot create the directory ({exc.strerror}); "
                         "give a writable path") from None
    return d


def save_figure(fig, path: Path, dpi: int = 110) -> Path:
    """Write *fig* to *path* as PNG, free its memory, and return *path*."""
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path
