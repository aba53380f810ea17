"""Regenerate the global-minimum table of docs/hta.md (HTA vs scipy BFGS on the paper's test function).

    python docs/examples/hta_table.py            # n = 2, 4, 6 on all cores (about 4 minutes on 2 cores)
    python docs/examples/hta_table.py --rows 2   # the n = 2 row only (seconds)
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from problems.hta.table import format_table, measure_row  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="2,4,6")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    print(format_table([measure_row(int(n), workers=args.workers) for n in args.rows.split(",")]))
