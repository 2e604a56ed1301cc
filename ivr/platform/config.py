"""Settings, read once from the environment (and a `.env` file).

Development fills the gaps with safe local values (a generated webhook token kept
under `var/`, the loopback URL, fictional 555 numbers); production refuses to
start until every setting a real line needs is present and sane, naming each
one that is not.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # ivr/platform/config.py

# Fictional numbers (555-01xx is reserved for fiction) so a development line can
# never ring a real person by accident.
DEV_LINE_NUMBER = "+18885550100"
DEV_BACKUP_NUMBER = "+12025550199"


class ConfigError(Exception):
    """The environment does not describe a line that may start."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    env: str
    redis_url: str | None
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_url: str | None
    public_url: str
    line_number: str
    backup_number: str
    flows_dir: Path
    secret_key: str
    retention_days: int
    host: str
    port: int
    var_dir: Path
    sms_segments_per_second: float = 3.0  # toll-free default; 0 switches limiting off
    sms_per_recipient_per_hour: int = 20
    # How long a running job's claim on its work lasts without renewal: a worker
    # that dies is noticed this long after (plus the sweeper's few seconds).
    job_lease_seconds: int = 15
    ring_strategy: str = "sequential"  # or "simultaneous": all at once, first to accept wins
    ring_seconds: int = 20  # how long one counselor's phone rings
    ring_rounds: int = 2  # times through the counselors on call before giving up
    max_hold_seconds: int = 180  # the longest a caller waits before other choices
    # Urgent work unclaimed this long climbs a step of its ladder (ivr/urgent):
    # a crisis text's callback after 5 minutes, an urgent callback or a voicemail
    # after 15.
    urgent_crisis_seconds: int = 300
    urgent_seconds: int = 900
    # A text conversation with a counselor (issue 19): a crisis message its
    # holder has not answered gets the automatic crisis reply after 2 minutes
    # (988's text standard: a reply within minutes); a texter silent for 30
    # minutes gets a closing text saying how to reach someone again.
    thread_crisis_seconds: int = 120
    thread_silence_seconds: int = 1800
    # A wrap-up left this long: its counselor is offered no new conversation
    # until it is done (the desk nags from the moment the contact ends).
    wrapup_grace_seconds: int = 900
    # The line's own time zone: its reports' days and hours (issue 20).
    timezone: str = "America/New_York"
    hold_music_url: str | None = None
    call_state_ttl_seconds: int = 4 * 3600
    redis_timeout_seconds: float = 0.5
    # How many proxies (TLS terminator, load balancer) stand in front of the
    # app and each append to X-Forwarded-For/-Proto. 0: the peer is the client,
    # and those headers, which anyone can send, are ignored.
    trusted_proxies: int = 0
    log_format: str = "text"  # or "json": one object per line (production's default)
    # The number is in a Messaging Service with Advanced Opt-Out: Twilio marks
    # what it answered with OptOutType. False: Twilio's default handling
    # answers its own keywords unmarked (ivr/sms/twilio_layer.py).
    advanced_opt_out: bool = False

    @property
    def retention_seconds(self) -> int:
        """How long records about a person are kept (HELPLINE_RETENTION_DAYS)."""
        return self.retention_days * 86400

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def public(self, path: str) -> str:
        """The absolute URL Twilio is given for one of our paths."""
        return self.public_url.rstrip("/") + path


PHONE_REGION = "US"
"""Where a number written without its country code is read as dialled: the
line is a US toll-free line, so "(202) 555-0101" is +12025550101."""


def to_e164(text: str, region: str = PHONE_REGION) -> str | None:
    """A number as a person writes it ("(202) 555-0101", "202-555-0101",
    "+1 202 555 0101") in E.164, as Twilio dials it; None unless it is a
    valid number (one with an extension is not: nobody can dial the extension)."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if parsed.extension or not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_e164(number: str) -> bool:
    if not number.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
    )


def redis_url_problems(url: str, production: bool) -> list[str]:
    """What is wrong with REDIS_URL. Production accepts plain redis:// by
    hostname (a private network: compose, a VPC, a sidecar; a name cannot be
    judged without DNS) but not to a public IP address, where the password and
    callers' data would cross the internet in clear; and rediss:// only with
    the server's certificate and name checked (TLS that trusts anyone does not
    keep a man in the middle out)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "unix"):
        return ["REDIS_URL must be a redis://, rediss:// (TLS) or unix:// URL"]
    if not production:
        return []
    query = {name.lower(): values[-1].lower() for name, values in parse_qs(parsed.query).items()}
    if parsed.scheme == "rediss" and (
        query.get("ssl_cert_reqs") == "none"
        or query.get("ssl_check_hostname") in ("false", "no", "0", "n", "f")
    ):
        return ["REDIS_URL: rediss:// must check the server's certificate and name"]
    try:
        public = parsed.scheme == "redis" and ip_address(parsed.hostname or "").is_global
    except ValueError:
        public = False  # a hostname
    if public:
        return ["REDIS_URL: use rediss:// (TLS) to reach Redis at a public address"]
    return []


def _environment(environ: Mapping[str, str] | None, dotenv_path: Path | None) -> dict[str, str]:
    """The process environment over the `.env` file: a real variable always wins."""
    merged: dict[str, str] = {}
    path = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def _dev_secrets(var_dir: Path) -> dict[str, str]:
    """Local-only credentials, made once and kept under var/ so the service,
    the worker, the emulator and the simulator all sign with the same token."""
    path = var_dir / "dev-secrets.json"
    if path.is_file():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    made = {
        "account_sid": "AC" + secrets.token_hex(16),
        "auth_token": secrets.token_hex(16),
        "secret_key": secrets.token_hex(32),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(made))
    tmp.chmod(0o600)
    tmp.replace(path)
    return made


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None
) -> Settings:
    env = _environment(environ, dotenv_path)
    mode = env.get("HELPLINE_ENV", "development").strip() or "development"
    problems: list[str] = []
    if mode not in ("development", "production"):
        raise ConfigError([f"HELPLINE_ENV must be development or production, not {mode!r}"])
    production = mode == "production"

    def text(name: str) -> str:
        return env.get(name, "").strip()

    var_dir = Path(text("HELPLINE_VAR_DIR") or PROJECT_ROOT / "var")
    port_text = text("PORT") or "5000"
    port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else 0
    if not port:
        problems.append(f"PORT must be a TCP port number, not {port_text!r}")
    retention_text = text("HELPLINE_RETENTION_DAYS") or "30"
    retention = int(retention_text) if retention_text.isdigit() else 0
    if retention < 1:
        problems.append("HELPLINE_RETENTION_DAYS must be a whole number of days, 1 or more")

    sid, token, secret = (
        text("TWILIO_ACCOUNT_SID"),
        text("TWILIO_AUTH_TOKEN"),
        text("HELPLINE_SECRET_KEY"),
    )
    public_url = text("HELPLINE_PUBLIC_URL")
    line_number = text("HELPLINE_NUMBER")
    backup = text("HELPLINE_BACKUP_NUMBER")
    redis_url = text("REDIS_URL") or None

    if production:
        if not (sid.startswith("AC") and len(sid) == 34):
            problems.append("TWILIO_ACCOUNT_SID is missing or not an account SID (AC + 32)")
        if len(token) < 32:
            problems.append("TWILIO_AUTH_TOKEN is missing or too short")
        parsed = urlparse(public_url)
        if (
            parsed.scheme != "https"
            or not parsed.hostname
            or parsed.hostname
            in (
                "localhost",
                "127.0.0.1",
            )
        ):
            problems.append("HELPLINE_PUBLIC_URL must be the public https:// URL Twilio uses")
        if not line_number:
            problems.append("HELPLINE_NUMBER is missing")
        if not backup:
            problems.append("HELPLINE_BACKUP_NUMBER is missing")
        if len(secret) < 32:
            problems.append("HELPLINE_SECRET_KEY is missing or shorter than 32 characters")
        if not redis_url:
            problems.append("REDIS_URL is missing (the embedded Redis is for development)")
    else:
        if not (sid and token and secret):
            made = _dev_secrets(var_dir)
            sid, token, secret = (
                sid or made["account_sid"],
                token or made["auth_token"],
                (secret or made["secret_key"]),
            )
        public_url = public_url or f"http://127.0.0.1:{port or 5000}"
        line_number = line_number or DEV_LINE_NUMBER
        backup = backup or DEV_BACKUP_NUMBER

    for name, number in (("HELPLINE_NUMBER", line_number), ("HELPLINE_BACKUP_NUMBER", backup)):
        if number and not is_e164(number):
            problems.append(f"{name} must be a valid E.164 number like +18005550100")
    if redis_url:
        problems += redis_url_problems(redis_url, production)
    api_url = text("HELPLINE_TWILIO_API_URL") or None
    if api_url and urlparse(api_url).scheme not in ("http", "https"):
        problems.append("HELPLINE_TWILIO_API_URL must be an http(s) URL")
    flows_dir = Path(text("HELPLINE_FLOWS_DIR") or PROJECT_ROOT / "flows")
    if not flows_dir.is_dir():
        problems.append(f"HELPLINE_FLOWS_DIR {str(flows_dir)!r} is not a directory")

    rate_text = text("HELPLINE_SMS_SEGMENTS_PER_SECOND") or "3"
    try:
        sms_rate = float(rate_text)
    except ValueError:
        sms_rate = -1.0
    if not 0 <= sms_rate <= 1000:
        problems.append("HELPLINE_SMS_SEGMENTS_PER_SECOND must be a number from 0 (off) to 1000")
    cap_text = text("HELPLINE_SMS_PER_RECIPIENT_PER_HOUR") or "20"
    if not cap_text.isdigit() or int(cap_text) < 1:
        problems.append("HELPLINE_SMS_PER_RECIPIENT_PER_HOUR must be a whole number, 1 or more")

    lease_text = text("HELPLINE_JOB_LEASE_SECONDS") or "15"
    # A lease must outlast one Twilio request (the client's timeout is 5 s), or a
    # live job could lose it mid-send and a second run send the same text again.
    if not lease_text.isdigit() or not 10 <= int(lease_text) <= 300:
        problems.append("HELPLINE_JOB_LEASE_SECONDS must be a whole number from 10 to 300")

    strategy = text("HELPLINE_RING_STRATEGY") or "sequential"
    if strategy not in ("sequential", "simultaneous"):
        problems.append("HELPLINE_RING_STRATEGY must be sequential or simultaneous")
    bounded = {
        "HELPLINE_RING_SECONDS": (20, 5, 60),
        "HELPLINE_RING_ROUNDS": (2, 1, 5),
        "HELPLINE_MAX_HOLD_SECONDS": (180, 30, 900),
        "HELPLINE_URGENT_CRISIS_SECONDS": (300, 5, 3600),
        "HELPLINE_URGENT_SECONDS": (900, 5, 86400),
        "HELPLINE_THREAD_CRISIS_SECONDS": (120, 5, 900),
        "HELPLINE_THREAD_SILENCE_SECONDS": (1800, 60, 86400),
        "HELPLINE_WRAPUP_GRACE_SECONDS": (900, 0, 86400),
    }
    routing: dict[str, int] = {}
    for name, (default, low, high) in bounded.items():
        raw = text(name) or str(default)
        if not raw.isdigit() or not low <= int(raw) <= high:
            problems.append(f"{name} must be a whole number from {low} to {high}")
        routing[name] = int(raw) if raw.isdigit() else default
    proxies_text = text("HELPLINE_TRUSTED_PROXIES") or "0"
    if not proxies_text.isdigit() or int(proxies_text) > 5:
        problems.append(
            "HELPLINE_TRUSTED_PROXIES must be the number of proxies in front, from 0 (none) to 5"
        )
    log_format = text("HELPLINE_LOG_FORMAT").lower() or ("json" if production else "text")
    if log_format not in ("json", "text"):
        problems.append("HELPLINE_LOG_FORMAT must be json or text")
    hold_music = text("HELPLINE_HOLD_MUSIC_URL") or None
    zone = text("HELPLINE_TIMEZONE") or "America/New_York"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"HELPLINE_TIMEZONE {zone!r} is not a time zone: write one like America/Chicago"
        )
    advanced_text = text("HELPLINE_ADVANCED_OPT_OUT").lower() or "false"
    if advanced_text not in ("true", "false", "1", "0", "yes", "no"):
        problems.append("HELPLINE_ADVANCED_OPT_OUT must be true or false")
    if hold_music and urlparse(hold_music).scheme != "https" and production:
        problems.append("HELPLINE_HOLD_MUSIC_URL must be an https URL")

    if problems:
        raise ConfigError(problems)
    return Settings(
        env=mode,
        redis_url=redis_url,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_api_url=api_url,
        public_url=public_url.rstrip("/"),
        line_number=line_number,
        backup_number=backup,
        flows_dir=flows_dir,
        secret_key=secret,
        retention_days=retention,
        host=text("HOST") or "127.0.0.1",
        port=port,
        var_dir=var_dir,
        sms_segments_per_second=sms_rate,
        sms_per_recipient_per_hour=int(cap_text),
        job_lease_seconds=int(lease_text) if lease_text.isdigit() else 15,
        ring_strategy=strategy,
        ring_seconds=routing["HELPLINE_RING_SECONDS"],
        ring_rounds=routing["HELPLINE_RING_ROUNDS"],
        max_hold_seconds=routing["HELPLINE_MAX_HOLD_SECONDS"],
        urgent_crisis_seconds=routing["HELPLINE_URGENT_CRISIS_SECONDS"],
        urgent_seconds=routing["HELPLINE_URGENT_SECONDS"],
        thread_crisis_seconds=routing["HELPLINE_THREAD_CRISIS_SECONDS"],
        thread_silence_seconds=routing["HELPLINE_THREAD_SILENCE_SECONDS"],
        wrapup_grace_seconds=routing["HELPLINE_WRAPUP_GRACE_SECONDS"],
        hold_music_url=hold_music,
        trusted_proxies=int(proxies_text),
        log_format=log_format,
        advanced_opt_out=advanced_text in ("true", "1", "yes"),
        timezone=zone,
    )
