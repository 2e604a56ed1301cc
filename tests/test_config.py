"""Settings: development fills safe local gaps; production refuses to start
without what a real line needs, naming each missing piece."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli.main import main
from ivr.platform.config import DEV_BACKUP_NUMBER, ConfigError, Settings, load_settings

GOOD_PRODUCTION = {
    "HELPLINE_ENV": "production",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "f" * 32,
    "HELPLINE_PUBLIC_URL": "https://line.example.org",
    "HELPLINE_NUMBER": "+18885550100",
    "HELPLINE_BACKUP_NUMBER": "+12025550199",
    "HELPLINE_SECRET_KEY": "s" * 40,
}


def load(environ: dict[str, str], tmp_path: Path) -> Settings:
    return load_settings(
        {"HELPLINE_VAR_DIR": str(tmp_path / "var"), **environ}, dotenv_path=tmp_path / ".env"
    )


def test_a_complete_production_environment_starts(tmp_path: Path) -> None:
    settings = load(GOOD_PRODUCTION, tmp_path)
    assert settings.is_production


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("TWILIO_ACCOUNT_SID", "TWILIO_ACCOUNT_SID"),
        ("TWILIO_AUTH_TOKEN", "TWILIO_AUTH_TOKEN"),
        ("HELPLINE_PUBLIC_URL", "HELPLINE_PUBLIC_URL"),
        ("HELPLINE_BACKUP_NUMBER", "HELPLINE_BACKUP_NUMBER"),
        ("HELPLINE_SECRET_KEY", "HELPLINE_SECRET_KEY"),
        ("REDIS_URL", "REDIS_URL"),
        ("HELPLINE_NUMBER", "HELPLINE_NUMBER"),
    ],
)
def test_production_names_each_missing_setting(tmp_path: Path, missing: str, named: str) -> None:
    environ = {k: v for k, v in GOOD_PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError) as refused:
        load(environ, tmp_path)
    assert any(named in problem for problem in refused.value.problems)


def test_production_names_every_problem_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        load({"HELPLINE_ENV": "production"}, tmp_path)
    assert len(refused.value.problems) >= 6


@pytest.mark.parametrize(
    "url", ["http://line.example.org", "https://localhost", "https://127.0.0.1:5000", "line"]
)
def test_production_refuses_a_url_twilio_cannot_reach_safely(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="HELPLINE_PUBLIC_URL"):
        load({**GOOD_PRODUCTION, "HELPLINE_PUBLIC_URL": url}, tmp_path)


@pytest.mark.parametrize("number", ["2025550199", "+1202555019", "+1 202 555 0199", "911"])
def test_numbers_must_be_e164(tmp_path: Path, number: str) -> None:
    with pytest.raises(ConfigError, match="HELPLINE_BACKUP_NUMBER"):
        load({**GOOD_PRODUCTION, "HELPLINE_BACKUP_NUMBER": number}, tmp_path)


def test_development_fills_the_gaps_with_local_values(tmp_path: Path) -> None:
    first = load({}, tmp_path)
    again = load({}, tmp_path)
    assert first.backup_number == DEV_BACKUP_NUMBER
    assert first.public_url == "http://127.0.0.1:5000"
    token = first.twilio_auth_token
    assert len(token) >= 32
    # One token for every process of the line: kept under var/, not made anew.
    assert again.twilio_auth_token == token
    assert (tmp_path / "var" / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=6001\nHELPLINE_RETENTION_DAYS=7\n")
    settings = load({"PORT": "6002"}, tmp_path)
    assert settings.port == 6002
    assert settings.retention_days == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [("PORT", "http"), ("HELPLINE_RETENTION_DAYS", "0"), ("HELPLINE_ENV", "staging")],
)
def test_nonsense_values_are_refused_by_name(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load({name: value}, tmp_path)


def test_the_cli_refuses_to_serve_in_production_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in GOOD_PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPLINE_ENV", "production")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code != 0
    assert "TWILIO_AUTH_TOKEN" in result.output
    assert "HELPLINE_BACKUP_NUMBER" in result.output


def test_listing_the_commands_builds_no_app_and_starts_no_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`helpline --help` used to build the app to list commands, which started
    the development Redis and left it running."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    var = tmp_path / "var"
    result = CliRunner().invoke(main, ["--help"], env={"HELPLINE_VAR_DIR": str(var)})
    assert result.exit_code == 0, result.output
    for command in ("serve", "worker", "roster", "backup", "twilio", "fallback", "now"):
        assert command in result.output
    assert not (var / "redis").exists()
