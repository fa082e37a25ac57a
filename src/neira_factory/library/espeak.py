"""The espeak-ng command line, called safely.

espeak-ng runs as a child process with an argument list (never a shell), the
text on stdin (so no text can become an option), UTF-8 input (``-b 1``) and a
deadline: the call's (domain/deadlines), at most ``ESPEAK_TIMEOUT_S``. ``ipa`` returns the IPA transcription and
``wav`` the rendered speech as a complete WAV file in memory: espeak-ng's
``--stdout`` stream carries placeholder chunk sizes, which are fixed here so
any WAV reader sees the true length. Nothing is written to disk.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

from neira_factory.domain import deadlines
from neira_factory.library.core import ImplError

ESPEAK_TIMEOUT_S = 20.0


def _run(args: list[str], text: str) -> bytes:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise ImplError("unavailable", "espeak-ng is not installed (apt-get install espeak-ng)")
    try:
        done = subprocess.run(
            [binary, "-b", "1", *args], input=text.encode(), capture_output=True,
            timeout=deadlines.left_s(ESPEAK_TIMEOUT_S), check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ImplError("timeout", f"espeak-ng ran past the call's deadline (at most {ESPEAK_TIMEOUT_S}s)") from error
    except OSError as error:
        raise ImplError("unavailable", f"espeak-ng could not start: {error}") from error
    stderr = done.stderr.decode(errors="replace").strip()
    if done.returncode != 0:
        if "voice" in stderr:
            raise ImplError("bad_input", f"espeak-ng has no voice for this language: {stderr}", "input.lang")
        raise ImplError("failed", f"espeak-ng exited with {done.returncode}: {stderr}")
    return done.stdout


def ipa(text: str, lang: str) -> str:
    """IPA for ``text`` in language ``lang``, clauses joined by spaces."""
    out = _run(["-q", "--ipa", "-v", lang], text).decode(errors="replace")
    return " ".join(line.strip() for line in out.splitlines() if line.strip())


def wav(text: str, lang: str, speed: float, pitch: float) -> bytes:
    """``text`` spoken in ``lang`` as WAV bytes (speed in words per minute, pitch 0..99)."""
    return _fix_sizes(_run(["--stdout", "-v", lang, "-s", str(round(speed)), "-p", str(round(pitch))], text))


def _fix_sizes(stream: bytes) -> bytes:
    """Set the RIFF and data chunk sizes of a streamed WAV to the real ones."""
    if len(stream) < 12 or stream[:4] != b"RIFF" or stream[8:12] != b"WAVE":
        raise ImplError("failed", "espeak-ng did not produce a WAV stream")
    fixed = bytearray(stream)
    struct.pack_into("<I", fixed, 4, len(fixed) - 8)
    offset = 12
    while offset + 8 <= len(fixed):
        chunk, size = struct.unpack_from("<4sI", fixed, offset)
        if chunk == b"data":
            struct.pack_into("<I", fixed, offset + 4, len(fixed) - offset - 8)
            return bytes(fixed)
        offset += 8 + size + (size & 1)
    raise ImplError("failed", "espeak-ng's WAV stream has no data chunk")
