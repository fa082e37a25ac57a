"""Server settings read from the environment into Settings: NEIRA_UI_SECRET (the admin UI's signing secret,
at least 32 characters, never in a repr) and NEIRA_LOG_LEVEL; and `serve` configuring its log from
NEIRA_LOG_LEVEL: one handler on stderr (time, level, logger, message) that uvicorn's loggers use too,
so uvicorn is started with no logging configuration of its own and nothing is logged twice."""
from __future__ import annotations

import logging

import pytest
import uvicorn
from support import ROOT
from typer.testing import CliRunner

from neira_factory.cli import app
from neira_factory.cli.serve import LOG_FORMAT
from neira_factory.config import MIN_UI_SECRET_LEN, Settings

SECRET = "s" * MIN_UI_SECRET_LEN


def test_the_ui_secret_is_a_setting_checked_and_never_shown(monkeypatch):
    monkeypatch.delenv("NEIRA_UI_SECRET", raising=False)
    assert Settings.from_env().ui_secret is None  # the UI then generates <var>/ui-secret
    monkeypatch.setenv("NEIRA_UI_SECRET", "")
    assert Settings.from_env().ui_secret is None
    monkeypatch.setenv("NEIRA_UI_SECRET", SECRET)
    settings = Settings.from_env()
    assert settings.ui_secret == SECRET and SECRET not in repr(settings)
    monkeypatch.setenv("NEIRA_UI_SECRET", SECRET[1:])
    with pytest.raises(ValueError, match=f"NEIRA_UI_SECRET must be at least {MIN_UI_SECRET_LEN} characters"):
        Settings.from_env()


def test_the_log_level_setting(monkeypatch):
    monkeypatch.delenv("NEIRA_LOG_LEVEL", raising=False)
    assert Settings.from_env().log_level == "INFO"
    monkeypatch.setenv("NEIRA_LOG_LEVEL", " debug ")
    assert Settings.from_env().log_level == "DEBUG"
    monkeypatch.setenv("NEIRA_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="NEIRA_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"):
        Settings.from_env()


@pytest.fixture
def fresh_logging():
    """The logging of a fresh process, as `serve` finds it (other tests may have run uvicorn in this one);
    the loggers are put back as they were after the test."""
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    for lg in loggers[1:]:
        lg.handlers, lg.propagate = [], True
        lg.setLevel(logging.NOTSET)
    yield
    for lg, handlers, level, propagate in saved:
        lg.handlers, lg.propagate = handlers, propagate
        lg.setLevel(level)


def serve(tmp_path, monkeypatch, level: str):
    """`neira-factory serve` with NEIRA_LOG_LEVEL=level, up to uvicorn.run, which is replaced by what makes
    uvicorn's Config from the same arguments (as uvicorn.run does) and logs a few records."""
    started = {}

    def run(asgi_app, **options):
        uvicorn.Config(asgi_app, **options)  # applies its logging configuration, if it were given one
        started.update(options)
        logging.getLogger("neira_factory.api").info("an info line of the factory")
        logging.getLogger("neira_factory.api").warning("a warning of the factory")
        logging.getLogger("uvicorn.error").warning("a warning of uvicorn")

    monkeypatch.setattr(uvicorn, "run", run)
    env = {"NEIRA_VAR_DIR": str(tmp_path), "NEIRA_LOG_LEVEL": level, "NEIRA_ADMIN_TOKEN": "t" * 32,
           "NEIRA_CAPABILITIES_FILE": str(ROOT / "capabilities.yaml"), "NEIRA_DATABASE_URL": "", "NEIRA_UI_SECRET": ""}
    result = CliRunner().invoke(app, ["serve", "--no-examples"], env=env)
    return result, started


def test_serve_logs_at_the_level_of_the_setting_through_one_handler(tmp_path, monkeypatch, fresh_logging):
    result, started = serve(tmp_path, monkeypatch, "warning")
    assert result.exit_code == 0, result.output
    assert started["log_config"] is None and "log_level" not in started
    root = logging.getLogger()
    assert root.level == logging.WARNING
    assert [h.formatter._fmt for h in root.handlers] == [LOG_FORMAT]
    assert not logging.getLogger("uvicorn").handlers and not logging.getLogger("uvicorn.error").handlers
    lines = result.stderr.splitlines()
    assert "an info line of the factory" not in result.stderr
    factory = [line for line in lines if line.endswith("a warning of the factory")]
    assert len(factory) == 1 and " WARNING neira_factory.api: a warning of the factory" in factory[0]
    assert factory[0][:4].isdigit()  # the timestamp first
    assert len([line for line in lines if line.endswith(" WARNING uvicorn.error: a warning of uvicorn")]) == 1


def test_serve_at_debug_shows_the_info_lines(tmp_path, monkeypatch, fresh_logging):
    result, _ = serve(tmp_path, monkeypatch, "DEBUG")
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == logging.DEBUG
    assert " INFO neira_factory.api: an info line of the factory" in result.stderr


def test_serve_refuses_an_unknown_log_level(tmp_path, monkeypatch, fresh_logging):
    result, started = serve(tmp_path, monkeypatch, "chatty")
    assert result.exit_code == 1 and not started
    assert "startup_failed" in result.stderr and "NEIRA_LOG_LEVEL must be one of" in result.stderr
