"""The token registry: tokens from the environment and the tokens file; the file is read again when it
changes (at most once per check interval), and a changed file that cannot be taken leaves the tokens as
they were; with nothing configured an admin token is generated."""
from __future__ import annotations

import logging
import os

import pytest
import yaml

from neira_factory.config import Settings
from neira_factory.domain.actors import Actor
from neira_factory.config.tokens import TokenRegistry

ALICE, BOB, ENV_ADMIN = "alice-token-0123456789", "bob-token-0123456789", "env-admin-token-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings(tmp_path, tokens_file=None, **tokens) -> Settings:
    return Settings(var_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'f.db'}", tokens_file=tokens_file,
                    **tokens)


def write(path, entries, *, bump: int = 0) -> None:
    path.write_text(entries if isinstance(entries, str) else yaml.safe_dump(entries))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))  # a distinct mtime even on coarse clocks


@pytest.fixture
def tokens_file(tmp_path):
    path = tmp_path / "tokens.yaml"
    write(path, [{"token": ALICE, "actor": "alice", "scope": "admin"}])
    return path


def test_a_change_to_the_tokens_file_is_in_force_after_the_check_interval(tmp_path, tokens_file):
    clock = Clock()
    registry = TokenRegistry.load(settings(tmp_path, tokens_file, admin_token=ENV_ADMIN), check_s=1.0, clock=clock)
    assert registry.actor_for(ALICE) == Actor("alice", "admin") and registry.actor_for(BOB) is None
    write(tokens_file, [{"token": BOB, "actor": "bob", "scope": "write"},
                        {"token": ALICE, "actor": "alice", "scope": "read"}], bump=1)
    clock.now += 0.5
    assert registry.actor_for(ALICE) == Actor("alice", "admin")  # not looked at yet
    clock.now += 0.6
    assert registry.actor_for(ALICE) == Actor("alice", "read")  # down-scoped
    assert registry.actor_for(BOB) == Actor("bob", "write")  # added
    assert registry.actor_for(ENV_ADMIN) == Actor("admin", "admin")  # the environment's token stays
    key = b"k" * 32
    write(tokens_file, [{"token": BOB, "actor": "bob", "scope": "write"}], bump=2)
    clock.now += 1.1
    assert registry.actor_for_fingerprint(registry.fingerprint(ALICE, key), key) is None  # revoked
    assert registry.actor_for(ALICE) is None
    assert registry.actor_for_fingerprint(registry.fingerprint(BOB, key), key) == Actor("bob", "write")


@pytest.mark.parametrize("broken", [
    "- {token: [unclosed",  # not YAML
    "token: alone",  # not a list
    "- {token: x, actor: a, scope: root}",  # an unknown scope
    "- not-a-mapping",
    "[]",  # no token at all would refuse every request
    None,  # the file is gone
])
def test_a_changed_file_that_cannot_be_taken_leaves_the_tokens_as_they_were(tmp_path, tokens_file, broken, caplog):
    clock = Clock()
    registry = TokenRegistry.load(settings(tmp_path, tokens_file), check_s=1.0, clock=clock)
    if broken is None:
        tokens_file.unlink()
    else:
        write(tokens_file, broken, bump=1)
    clock.now += 2
    with caplog.at_level(logging.ERROR, logger="neira_factory.config.tokens"):
        assert registry.actor_for(ALICE) == Actor("alice", "admin")
        clock.now += 2
        assert registry.actor_for(ALICE) == Actor("alice", "admin")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "cannot be taken" in errors[0].getMessage()  # said once, not every second
    write(tokens_file, [{"token": BOB, "actor": "bob", "scope": "read"}], bump=3)  # fixed: taken
    clock.now += 2
    assert registry.actor_for(BOB) == Actor("bob", "read") and registry.actor_for(ALICE) is None


def test_an_invalid_tokens_file_at_start_is_an_error(tmp_path, tokens_file):
    write(tokens_file, "- {token: x, actor: a}")
    with pytest.raises(ValueError, match="token, actor and scope"):
        TokenRegistry.load(settings(tmp_path, tokens_file))


def test_with_no_token_configured_an_admin_token_is_generated_once(tmp_path):
    registry = TokenRegistry.load(settings(tmp_path))
    generated = registry.generated_admin_file
    assert generated == tmp_path / "admin-token" and generated.stat().st_mode & 0o777 == 0o600
    token = generated.read_text().strip()
    assert registry.actor_for(token) == Actor("admin", "admin")
    assert TokenRegistry.load(settings(tmp_path)).actor_for(token) == Actor("admin", "admin")
    assert TokenRegistry.load(settings(tmp_path, admin_token=ENV_ADMIN)).generated_admin_file is None
