"""Write the demo corpus (exports and planted truth) without touching any store.

    python corpora/generate.py --out DIR [--seed 7] [--scale 1.0]

The generator itself is ``vocseg.demo_corpus.generate``; see corpora/README.md for what
the files hold. ``vocseg demo`` does the same and then ingests and analyses the files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # works from a plain checkout too

from vocseg import demo_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="folder to write into (created)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--scale", type=float, default=1.0, help="size multiplier (default 1.0)")
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 50:
        parser.error("--scale must be in (0, 50]")
    print(json.dumps(demo_corpus.generate(args.out, seed=args.seed, scale=args.scale), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
