"""A secret generated once into a file under the var directory (mode 0600) when no setting gives one: the
UI session secret, the webhook signing secret, the generated admin token, the audit key."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def generated_secret(path: Path, nbytes: int = 48) -> str:
    """The secret in `path`, stripped; when the file does not exist, a new random one (`nbytes` of randomness,
    URL-safe text) is written to it first.

    The file appears whole or not at all (written aside, then linked into place), so processes starting together
    agree on one secret: the first to link it wins and the others read theirs. The caller judges the content
    (an empty or short file is its error to report, with its own advice)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(nbytes) + "\n")
            os.link(aside, path)
        except FileExistsError:  # another process made it meanwhile: theirs is the one
            pass
        finally:
            aside.unlink()
    return path.read_text().strip()
