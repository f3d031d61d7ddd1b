"""Convergence table: a 100 um x 10 um strip a gap above a dielectric interface.

Ground plane at y = 0, a 100 um slab (eps_slab), the strip in the medium above (eps_top),
its bottom face ``gap`` above the interface. sigint's BEM at refine 1, 2, 4 against the
independent layered-medium solver of tests/layered_reference.py (Richardson-extrapolated).

Run: ``PYTHONPATH=.:tests python bench/interface_gap.py`` (prints a Markdown table).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import layered_reference as ref  # noqa: E402
from test_extract_interface_gap import UM, H, T, W, strip_over_slab  # noqa: E402

from sigint.extract.bem import BemSolver  # noqa: E402
from sigint.xsection.geometry import resolve  # noqa: E402
from sigint.xsection.schema import load_cross_section  # noqa: E402


def main() -> None:
    print("| eps top / slab | gap / w | C ref (pF/m) | ref +- | refine | C (pF/m) | error "
          "| panels | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for et, eb in ((1.0, 4.0), (3.9, 11.9)):
        for gw in (0.001, 0.01, 0.1, 1.0):
            g = gw * W
            rect = (-W / 2 * UM, W / 2 * UM, (H + g) * UM, (H + g + T) * UM)
            c_ref, err, _, _ = ref.extrapolated(rect, H * UM, et, eb, (64, 128, 256))
            for r in (1, 2, 4):
                geo = resolve(load_cross_section(strip_over_slab(g, et, eb)))
                t0 = time.perf_counter()
                s = BemSolver(geo, r)
                c = s.solve(1e9).real[0, 0]
                dt = time.perf_counter() - t0
                print(f"| {et:g} / {eb:g} | {gw:g} | {c_ref * 1e12:.4f} | {err * 1e12:.1e} | {r} "
                      f"| {c * 1e12:.4f} | {c / c_ref - 1:+.2%} | {s.panels.n} | {dt:.3f} |")


if __name__ == "__main__":
    main()
