"""Measure how well descriptions of nodes are matched to library implementations (docs/decisions.md).

Runs the labelled commands of tests/unit/commands/test_describe_corpus.py (CASES, and HELD_OUT: written after
the words and thresholds were set) through the parser and ranks each description two ways:

  overlap     commands/describe.py: lemma/stem overlap with each implementation's words, weighted by rarity
  embeddings  Russian word embeddings (navec news, 250K words, 300d, as natasha's wheel bundles them): each
              description word's best cosine against the implementation's words, averaged (words navec lacks
              count 0)

For each it picks the threshold and margin that get the most labelled cases right (and the overlap's shipped
ones) and reports accuracy@1 (described nodes ranked first and fitting), refusal correctness (nothing-fits
cases refused) and misreads (another implementation proposed) on both sets, two-fold cross-validation on the
labelled set (thresholds chosen on one half, scored on the other), and per language. Embeddings need navec and
natasha's data (`pip install navec`, then unzip natasha-1.6.0's wheel:
natasha/data/emb/navec_news_v1_1B_250K_300d_100q.tar); pass its path as NAVEC_TAR.

Usage: python scripts/measure_describe.py [-v]   (-v lists every case decided wrongly)
"""
from __future__ import annotations

import itertools
import os
import re
import resource
import runpy
import sys
import time
from pathlib import Path

import numpy as np

from neira_factory import library
from neira_factory.commands import describe
from neira_factory.commands.parser import parse
from neira_factory.commands.vocabulary import Vocabulary
from neira_factory.library.text_search import term

ROOT = Path(__file__).resolve().parents[1]
CASES = runpy.run_path(str(ROOT / "tests/unit/commands/test_describe_corpus.py"))["CASES"]
VOCAB = Vocabulary(impls=tuple(library.names()))
THRESHOLDS = [round(0.2 + 0.025 * k, 3) for k in range(29)]
MARGINS = [0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2]
UNKNOWN_WEIGHTS = (1.0, 1.5, 2.0)  # describe.UNKNOWN: a term no implementation knows, over the rarest known
WORD = re.compile(r"[^\W\d_]+")
CYRILLIC = re.compile(r"[а-яё]")


def overlap(text: str) -> list[tuple[str, float]]:
    return describe.rank(text)


class Embeddings:
    """Soft coverage with navec vectors: mean over the description's words of the best cosine."""

    def __init__(self, path: str) -> None:
        from navec import Navec

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        self.navec = Navec.load(path)
        self.load_s = time.perf_counter() - started
        self.rss_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        self.index = {name: self._vectors(" ".join((library.get(name).about.ru, library.get(name).about.en,
                                                     *library.get(name).about.words)))
                      for name in library.names()}

    def _words(self, text: str) -> list[str]:
        """Russian lemmas and English words as written (navec's vocabulary), stop and generic words out."""
        return [term(w) if CYRILLIC.search(w) else w for w in WORD.findall(text.lower().replace("ё", "е"))
                if describe.terms(w)]

    def _vectors(self, text: str) -> np.ndarray:
        found = [self.navec[w] for w in self._words(text) if w in self.navec]
        matrix = np.array(found, dtype=np.float32) if found else np.zeros((1, 300), dtype=np.float32)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)

    def rank(self, text: str) -> list[tuple[str, float]]:
        words = self._words(text)
        if not words:
            return [(name, 0.0) for name in self.index]
        scored = []
        for name, matrix in self.index.items():
            total = 0.0
            for w in words:
                if w in self.navec:
                    v = self.navec[w]
                    total += float(np.max(matrix @ (v / max(np.linalg.norm(v), 1e-9))))
            scored.append((name, round(total / len(words), 3)))
        return sorted(scored, key=lambda pair: (-pair[1], pair[0]))


def decide(ranked: list[tuple[str, float]], threshold: float, margin: float) -> str | None:
    top, second = ranked[0][1], ranked[1][1]
    return ranked[0][0] if top >= threshold and round(top - second, 3) >= margin else None


def score(rankings: list[tuple[str | None, list, str]], threshold: float, margin: float) -> tuple[int, ...]:
    """(described right, to describe, refused right, to refuse, misread: another implementation proposed)."""
    got = [(want, decide(ranked, threshold, margin)) for want, ranked, _ in rankings]
    return (sum(1 for want, g in got if want and g == want), sum(1 for want, _ in got if want),
            sum(1 for want, g in got if not want and g is None), sum(1 for want, _ in got if not want),
            sum(1 for want, g in got if g is not None and g != want))


def tune(rankings: list) -> tuple[float, float]:
    """The threshold and margin that get the most cases right (the fewest misreads on a tie)."""
    return max(itertools.product(THRESHOLDS, MARGINS),
               key=lambda tm: (score(rankings, *tm)[0] + score(rankings, *tm)[2], -score(rankings, *tm)[4]))


def line(name: str, rankings: list, threshold: float, margin: float) -> str:
    d, dn, r, rn, wrong = score(rankings, threshold, margin)
    return (f"{name:26} accuracy@1 {d}/{dn} = {d / max(dn, 1):.3f}, refusals {r}/{rn} = {r / max(rn, 1):.3f}, "
            f"misread {wrong}")


def report(name: str, main: list, held: list, seconds: float, fixed: tuple[float, float] | None) -> None:
    threshold, margin = fixed or tune(main)
    folds = [main[0::2], main[1::2]]
    cv = [score(folds[1 - k], *tune(folds[k])) for k in range(2)]
    print(f"{name}: threshold {threshold:.3f}, margin {margin:.3f}{' (as shipped)' if fixed else ' (tuned)'}, "
          f"{1000 * seconds / (len(main) + len(held)):.2f} ms per description")
    print("  " + line("labelled set", main, threshold, margin))
    print("  " + line("held-out set", held, threshold, margin))
    print(f"  {'2-fold CV (labelled set)':26} accuracy@1 {sum(c[0] for c in cv) / sum(c[1] for c in cv):.3f}, "
          f"refusals {sum(c[2] for c in cv) / sum(c[3] for c in cv):.3f}, misread {sum(c[4] for c in cv)}")
    for lang, keep in (("ru", True), ("en", False)):
        both = [row for row in main + held if bool(CYRILLIC.search(row[2])) == keep]
        print("  " + line(f"{lang} (both sets)", both, threshold, margin))
    if "-v" in sys.argv:
        for want, ranked, text in main + held:
            got = decide(ranked, threshold, margin)
            if got != want:
                print(f"    want {want}, got {got}: {text} :: {ranked[:3]}")


def main() -> None:
    held_out = runpy.run_path(str(ROOT / "tests/unit/commands/test_describe_corpus.py"))["HELD_OUT"]
    sets = [[(want, parse(text, VOCAB).description or "", text) for text, want in cases] for cases in (CASES, held_out)]
    print(f"labelled set: {len(CASES)} descriptions; held-out set: {len(held_out)}; "
          f"{sum(1 for s in sets for w, _, _ in s if not w)} to refuse in all")
    methods = {"overlap": overlap}
    path = os.environ.get("NAVEC_TAR")
    if path:
        embeddings = Embeddings(path)
        print(f"navec: loaded in {embeddings.load_s:.2f} s, +{embeddings.rss_mb:.0f} MiB resident, "
              f"{Path(path).stat().st_size / 2**20:.1f} MiB on disk")
        methods["embeddings"] = embeddings.rank
    shipped = (describe.UNKNOWN, describe.THRESHOLD, describe.MARGIN)
    for name, rank in methods.items():
        variants = [(u, None) for u in UNKNOWN_WEIGHTS] + [(shipped[0], shipped[1:])] if name == "overlap" else [
            (None, None)]
        for unknown, fixed in variants:
            if unknown is not None:
                describe.UNKNOWN = unknown
            started = time.perf_counter()
            main_set, held = ([(want, rank(d), text) for want, d, text in s] for s in sets)
            seconds = time.perf_counter() - started
            report(f"{name} (unknown x{unknown})" if unknown else name, main_set, held, seconds, fixed)


if __name__ == "__main__":
    main()
