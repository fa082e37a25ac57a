"""The Tesseract command line, called safely.

Tesseract runs as a child process with an argument list (never a shell), the
image as PNG bytes on stdin (always a PNG that Pillow re-encoded, so
Tesseract's own decoders never see client bytes), TSV on stdout, one OpenMP
thread (``OMP_THREAD_LIMIT=1``: parallel requests do not oversubscribe the
CPU) and a deadline: the call's (domain/deadlines), at most ``TESSERACT_TIMEOUT_S``.
Nothing is written to disk.

``languages()`` lists the installed recognition languages (``--list-langs``
without ``osd``, cached per binary: a language installed later needs a
restart); ``check_lang`` accepts a ``+``-joined list of them; ``words`` runs
the recognition and returns the TSV's word rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from typing import NamedTuple

from neira_factory.domain import deadlines
from neira_factory.library.core import ImplError

TESSERACT_TIMEOUT_S = 20.0
MAX_LANGS = 4  # each language loads its own model
APT_HINT = "apt-get install tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng"


class Word(NamedTuple):
    """One recognised word: where it is in the image given to Tesseract, and its line."""

    text: str
    left: int
    top: int
    width: int
    height: int
    confidence: float  # 0..100 as Tesseract gives it
    line: tuple[int, int, int, int]  # page, block, paragraph, line


def _binary() -> str:
    binary = shutil.which("tesseract")
    if binary is None:
        raise ImplError("unavailable", f"tesseract is not installed ({APT_HINT})")
    return binary


def _run(args: list[str], stdin: bytes = b"") -> str:
    try:
        done = subprocess.run(
            [_binary(), *args],
            input=stdin,
            capture_output=True,
            timeout=deadlines.left_s(TESSERACT_TIMEOUT_S),
            check=False,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired as error:
        raise ImplError("timeout", f"tesseract ran past the call's deadline (at most {TESSERACT_TIMEOUT_S}s)") from error
    except OSError as error:
        raise ImplError("unavailable", f"tesseract could not start: {error} ({APT_HINT})") from error
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()
        raise ImplError("failed", f"tesseract exited with {done.returncode}: {stderr[-500:]}")
    return done.stdout.decode("utf-8", errors="replace")


def languages() -> frozenset[str]:
    """The installed recognition languages (``eng``, ``rus``, …)."""
    return _languages(_binary())


@lru_cache(maxsize=4)
def _languages(binary: str) -> frozenset[str]:
    lines = _run(["--list-langs"]).splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip() and line.strip() != "osd")


def check_lang(lang: object, field: str = "params.lang") -> str:
    """``lang`` when it is a ``+``-joined list of installed languages, else ``bad_params``."""
    if not isinstance(lang, str) or not lang.strip():
        raise ImplError("bad_params", f"lang must be languages joined by '+', such as 'eng+rus', got {lang!r}", field)
    parts = list(dict.fromkeys(part.strip() for part in lang.split("+")))
    installed = languages()
    unknown = [part for part in parts if part not in installed]
    if unknown:
        hint = ", ".join(f"tesseract-ocr-{part}" for part in unknown if part.replace("_", "").isalnum())
        raise ImplError(
            "bad_params",
            f"tesseract has no language {', '.join(map(repr, unknown))}; installed: {', '.join(sorted(installed))}"
            + (f" (Debian packages: {hint})" if hint else ""),
            field,
        )
    if len(parts) > MAX_LANGS:
        raise ImplError("bad_params", f"at most {MAX_LANGS} languages at once, got {len(parts)}", field)
    return "+".join(parts)


def words(png: bytes, lang: str, psm: int | None = None) -> list[Word]:
    """The words Tesseract reads in the PNG ``png``, in reading order."""
    args = ["stdin", "stdout", "-l", lang]
    if psm is not None:
        args += ["--psm", str(psm)]
    return parse_tsv(_run([*args, "tsv"], png))


def parse_tsv(tsv: str) -> list[Word]:
    """Word rows (level 5, non-blank) of Tesseract's TSV output."""
    found = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        try:
            page, block, par, line, _word, left, top, width, height = (int(cell) for cell in cells[1:10])
            confidence = float(cells[10])
        except ValueError:
            continue
        found.append(Word(cells[11].strip(), left, top, width, height, max(confidence, 0.0), (page, block, par, line)))
    return found
