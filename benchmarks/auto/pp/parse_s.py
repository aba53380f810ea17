"""Print PAR(1), PAR(3) and U of the labelled special points in an AUTO-07p solution file.

Usage (after ``auto-07p run.auto``, or ``auto-07p run2.auto`` for the fold curve, in this directory)::

    python parse_s.py s.pp
    python parse_s.py s.pp2

The s-file stores each labelled point as a header line (IBR, NTOT, ITP, LAB, NFPR, ISW,
NTPL, NAR, NROWPR, NTST, NCOL, NPAR, ...) and NROWPR lines of numbers ending with the NPAR
parameters; ITP is 1 for BP, 2 for LP, 3 for HB, 4 for a user point (UZ; -4 where the run stopped),
and on two-parameter curves 21/31 for BT, 22 for CP, 23/33 for ZH, 32 for GH.
"""

import sys

TYPES = {1: "BP", 2: "LP", 3: "HB", 4: "UZ"}
#: Codimension-2 points of two-parameter runs (ISW=2): on fold curves 2x, on Hopf curves 3x.
CODIM2 = {21: "BT", 22: "CP", 23: "ZH", 31: "BT", 32: "GH", 33: "ZH"}


def special_points(path):
    lines = open(path).read().split("\n")
    i, out = 0, []
    while i < len(lines) and lines[i].strip():
        head = [int(x) for x in lines[i].split()]
        itp, lab, nar, nrowpr, npar = head[2], head[3], head[7], head[8], head[11]
        numbers = [float(v.replace("D", "E")) for v in " ".join(lines[i + 1:i + 1 + nrowpr]).split()]
        kind = CODIM2.get(abs(itp)) or TYPES.get(abs(itp) % 10)
        if kind:
            out.append((kind, lab, head[0], numbers[-npar:], numbers[1:nar]))
        i += 1 + nrowpr
    return out


if __name__ == "__main__":
    for kind, lab, branch, par, u in special_points(sys.argv[1] if len(sys.argv) > 1 else "s.pp"):
        print(f"{kind} label {lab} branch {branch}: p1 = {par[0]!r}, p3 = {par[2]!r}, U = {u}")
