"""``python -m attacks [WORD ...]`` (from tests/): run the cases whose id has a word; print them."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter

from . import CASES, run_cases


def main(words: list[str]) -> int:
    """Run the selected cases and print one line per case that does not hold, then totals."""
    chosen = [c for c in CASES if not words or any(w in c.id for w in words)]
    run = run_cases(chosen)
    if os.environ.get("ATTACKS_JSON"):  # every outcome, for a findings list
        with open(os.environ["ATTACKS_JSON"], "w") as f:
            json.dump([vars(run.outcomes[c.id]) | {"cls": c.cls} for c in chosen], f, indent=1)
    for case in chosen:
        o = run.outcomes[case.id]
        if not o.holds:
            print(f"FAIL {case.id}: {o.detail}")
    held = Counter(c.cls for c in chosen if run.outcomes[c.id].holds)
    for cls, n in Counter(c.cls for c in chosen).items():
        print(f"{cls}: {held[cls]}/{n} hold")
    print(f"{len(chosen)} cases, {run.subprocesses} interpreters, {run.seconds:.1f} s")
    return 0 if all(run.outcomes[c.id].holds for c in chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
