"""Writing one network in every Touchstone variant, from the specification, for the tests.

Independent of the reader: the parameter conversions here go from S to Z, Y, H and G with
the closed forms of Pozar (Microwave Engineering, 4th ed., section 4.3 and Table 4.2) for
real reference resistances, :math:`Z = R^{1/2} (I + S)(I - S)^{-1} R^{1/2}`,
:math:`Y = Z^{-1}`, and the two-port H and G from Z element by element; the normalization
is the one of the Touchstone 1.1 and 2.0 specifications (IBIS Open Forum): version 1 writes
normalized values (Z/R, Y*R, H11/R, H22*R, G11*R, G22/R), version 2 writes values as they
are. Mixed-mode S uses the Bockelman-Eisenstadt waves (IEEE T-MTT 43(7), 1995):
:math:`S_{dd,ij} = (S_{PP} - S_{PN} - S_{NP} + S_{NN})/2` for pairs (P, N), written out per
entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNITS = {"Hz": 1.0, "kHz": 1e3, "MHz": 1e6, "GHz": 1e9}


@dataclass
class Variant:
    version: int = 1            # 1 or 2
    fmt: str = "RI"             # RI, MA, DB
    unit: str = "GHz"
    param: str = "S"            # S, Y, Z, H, G
    matrix: str = "Full"        # v2: Full, Upper, Lower
    per_port_ref: bool = False
    mixed_mode: list[tuple] | None = None   # [("D", 1, 3), ("C", 1, 3), ...], 1-based
    order_12_21: bool = False   # v2 two-port order
    comments: bool = False
    crlf: bool = False
    bom: bool = False
    token_order: tuple = ("unit", "param", "fmt", "r")
    information: bool = False
    unknown_keyword: bool = False


def s_to_z(s: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Z (ohm) of S at real references *r*: :math:`R^{1/2}(I+S)(I-S)^{-1}R^{1/2}`."""
    n = s.shape[-1]
    eye = np.eye(n)
    sq = np.sqrt(r)
    return sq[:, None] * ((eye + s) @ np.linalg.inv(eye - s)) * sq[None, :]


def s_to_param(s: np.ndarray, r: np.ndarray, param: str) -> np.ndarray:
    """Z, Y, H or G (SI units) of *s* at references *r*, shape (F, n, n)."""
    if param == "S":
        return s.copy()
    z = s_to_z(s, r)
    if param == "Z":
        return z
    if param == "Y":
        return np.linalg.inv(z)
    z11, z12, z21, z22 = z[:, 0, 0], z[:, 0, 1], z[:, 1, 0], z[:, 1, 1]
    dz = z11 * z22 - z12 * z21
    out = np.empty_like(z)
    if param == "H":     # Pozar Table 4.2 (ABCD/Z/Y/H conversions)
        out[:, 0, 0], out[:, 0, 1] = dz / z22, z12 / z22
        out[:, 1, 0], out[:, 1, 1] = -z21 / z22, 1 / z22
    else:                # G = H^-1, from Z: G11 = 1/Z11, G12 = -Z12/Z11, G21 = Z21/Z11, G22 = dZ/Z11
        out[:, 0, 0], out[:, 0, 1] = 1 / z11, -z12 / z11
        out[:, 1, 0], out[:, 1, 1] = z21 / z11, dz / z11
    return out


def v1_normalize(p: np.ndarray, r: float, param: str) -> np.ndarray:
    """Touchstone 1 stored values of SI parameters *p* with reference resistance *r*."""
    q = p.copy()
    if param == "Z":
        q = q / r
    elif param == "Y":
        q = q * r
    elif param == "H":
        q[:, 0, 0] /= r
        q[:, 1, 1] *= r
    elif param == "G":
        q[:, 0, 0] *= r
        q[:, 1, 1] /= r
    return q


def to_mixed_mode(s: np.ndarray, order: list[tuple]) -> np.ndarray:
    """Mixed-mode S of single-ended *s* in the row order *order* (1-based ports)."""
    n = s.shape[-1]
    out = np.zeros_like(s)

    def legs(entry):      # [(port, sign / sqrt2 or 1)]
        k, i, j = entry
        if k == "S":
            return [(i - 1, 1.0)]
        r = 1 / np.sqrt(2)
        return [(i - 1, r), (j - 1, -r if k == "D" else r)]

    for a in range(n):
        for b in range(n):
            acc = 0
            for p, cp in legs(order[a]):
                for q, cq in legs(order[b]):
                    acc = acc + cp * cq * s[:, p, q]
            out[:, a, b] = acc
    return out


def _num(x: float) -> str:
    return repr(float(x))


def _pairs(v: np.ndarray, fmt: str) -> list[str]:
    if fmt == "RI":
        return [_num(v.real), _num(v.imag)]
    mag = np.abs(v)
    ang = np.degrees(np.angle(v))
    if fmt == "MA":
        return [_num(mag), _num(ang)]
    return [_num(20 * np.log10(mag)), _num(ang)]


def write(f: np.ndarray, s: np.ndarray, r: np.ndarray, v: Variant) -> bytes:
    """The text of a Touchstone file holding S-parameters *s* (references *r*) as *v* says."""
    n = s.shape[-1]
    mult = UNITS[v.unit]
    if v.mixed_mode:
        data = to_mixed_mode(s, v.mixed_mode)
    else:
        data = s_to_param(s, r, v.param)
        if v.version == 1:
            data = v1_normalize(data, float(r[0]), v.param)
    lines: list[str] = []
    if v.comments:
        lines.append("! written by the sigint tests")
        lines.append("")
    if v.version == 2:
        lines.append("[Version] 2.0")
    toks = {"unit": v.unit.upper() if v.comments else v.unit, "param": v.param, "fmt": v.fmt,
            "r": "R " + (" ".join(_num(x) for x in r) if v.per_port_ref and v.version == 1
                         else _num(r[0]))}
    lines.append("# " + " ".join(toks[k] for k in v.token_order))
    if v.version == 2:
        lines.append(f"[Number of Ports] {n}")
        if n == 2:
            lines.append("[Two-Port Data Order] " + ("12_21" if v.order_12_21 else "21_12"))
        lines.append(f"[Number of Frequencies] {f.size}")
        if v.per_port_ref:
            lines.append("[Reference] " + " ".join(_num(x) for x in r[:1]))
            if n > 1:
                if v.comments:
                    lines.append("! the other ports")
                lines.append("  " + " ".join(_num(x) for x in r[1:]))
        lines.append(f"[Matrix Format] {v.matrix}")
        if v.mixed_mode:
            lines.append("[Mixed-Mode Order] " + " ".join(
                f"{k}{i}" + (f",{j}" if k != "S" else "") for k, i, j in v.mixed_mode))
        if v.information:
            lines += ["[Begin Information]", "Model: test fixture [rev 2]", "[End Information]"]
        if v.unknown_keyword:
            lines.append("[Interpolation Mode] Linear")
        lines.append("[Network Data]")
    for k in range(f.size):
        m = data[k]
        if v.version == 2 and v.matrix != "Full":
            rows = []
            for i in range(n):
                js = range(i, n) if v.matrix == "Upper" else range(0, i + 1)
                rows.append([x for j in js for x in _pairs(m[i, j], v.fmt)])
        elif n == 2 and not (v.version == 2 and v.order_12_21):
            rows = [[x for (i, j) in ((0, 0), (1, 0), (0, 1), (1, 1)) for x in _pairs(m[i, j], v.fmt)]]
        else:
            rows = [[x for j in range(n) for x in _pairs(m[i, j], v.fmt)] for i in range(n)]
        first = True
        for row in rows:
            # at most four pairs a line (Touchstone 1 for n > 2), continuation lines indented
            for c in range(0, len(row), 8):
                head = (_num(f[k] / mult) + " ") if first else "   "
                first = False
                line = head + " ".join(row[c:c + 8])
                if v.comments and c == 0 and k % 2:
                    line += "   ! a comment after the numbers"
                lines.append(line)
        if v.comments and k == 0:
            lines.append("! a comment between frequencies")
            lines.append("")
    if v.version == 2:
        lines.append("[End]")
    text = ("\r\n" if v.crlf else "\n").join(lines) + ("\r\n" if v.crlf else "\n")
    return (b"\xef\xbb\xbf" if v.bom else b"") + text.encode("ascii")
