"""The reports over a year of contacts (issue 20): `python -m bench.reports`.

Two lines, each the real app in this process (Flask's test client, signed in
as an admin) with the same roster (100 weekly shifts: people coming and
going every hour, in four zones), on two databases of one private Redis:

- small: 100 contacts over the last 30 days: the baseline;
- big: 100,000 contacts over the last 365 days (274 a day, a busy line).

Contacts are recorded as the line records them (`Contacts.record`), with
outcomes in a busy line's proportions, and answered ones wrapped up with
dispositions, a risk level and referrals, so every tally field is in use.

Timed, each page on each line in turn, round and round (so a noisy moment
slows both alike and the ratios hold): the reports page for the last 30
days (the default), for a whole year (365 days: 35,040 quarter tallies, and
the coverage of 8,760 hours), and the monthly page (two months). And once:
the first report after an upgrade, which recounts every kept contact; and,
for the record, reading the year contact by contact (`Contacts.between`),
what the pages did before the tallies; and what the tallies cost in memory.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from flask.testing import FlaskClient

from bench.growth import roster_data
from bench.machine import machine_line
from ivr.app import create_app
from ivr.contacts.records import Contacts, WrapUp, WrapUpLists
from ivr.contacts.tallies import TALLIED, VERSION
from ivr.operators.accounts import Accounts
from ivr.platform.config import load_settings
from ivr.platform.embedded_redis import start_server, wait_until_ready
from ivr.roster.parse import parse_roster
from ivr.roster.store import RosterStore

ZONE = "America/New_York"
RETENTION_DAYS = 400
ROUNDS = 15
PASSWORD = "correct horse battery staple"  # noqa: S105 - the bench's own admin
# A busy line's mix (the shares are ours, not a standard): most answered.
OUTCOMES = (
    ("answered", 0.62),
    ("conversation", 0.08),
    ("abandoned", 0.12),
    ("voicemail", 0.10),
    ("backup_line", 0.05),
    ("unanswered", 0.03),
)
DISPOSITIONS = ("information", "support", "withdrawal", "crisis_support", "referral_given")
RISKS = ("none", "low", "moderate", "high")
REFERRALS = ("988", "prescriber", "taper_clinic", "support_group")
LISTS = WrapUpLists(frozenset(DISPOSITIONS), frozenset(RISKS), frozenset(REFERRALS))


@dataclass
class Line:
    name: str
    client: FlaskClient
    redis: redis.Redis
    contacts: int


def open_line(name: str, url: str, directory: Path) -> Line:
    settings = load_settings(
        {
            "REDIS_URL": url,
            "TWILIO_AUTH_TOKEN": "t" * 32,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "HELPLINE_SECRET_KEY": "k" * 40,
            "HELPLINE_PUBLIC_URL": "https://helpline.example.org",
            "HELPLINE_NUMBER": "+18005550100",
            "HELPLINE_VAR_DIR": str(directory / name),
            "HELPLINE_RETENTION_DAYS": str(RETENTION_DAYS),
            "HELPLINE_TIMEZONE": ZONE,
        },
        dotenv_path=directory / ".env",
    )
    client = redis.Redis.from_url(url)
    RosterStore(client).save(parse_roster(roster_data(100), "bench"))
    Accounts(client).set_password("sam", PASSWORD, "admin")
    web = create_app(settings).test_client()
    page = web.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = web.post(
        "/admin/login", data={"name": "sam", "secret": PASSWORD, "csrf_token": token.group(1)}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"{name}: login answered {answer.status_code}")
    return Line(name, web, client, 0)


def fill(line: Line, count: int, days: int, seed: int) -> float:
    """COUNT contacts over the last DAYS days; the seconds it took."""
    rng = random.Random(seed)
    store = Contacts(line.redis, RETENTION_DAYS * 86400)
    now = time.time()
    names = [o for o, _ in OUTCOMES]
    weights = [w for _, w in OUTCOMES]
    began = time.perf_counter()
    for n in range(count):
        started = now - rng.uniform(0, days * 86400)
        outcome = rng.choices(names, weights)[0]
        person = outcome in ("answered", "conversation")
        waited = rng.expovariate(1 / 25)  # seconds: most within 20, a tail past 60
        counselor = f"c{rng.randrange(12)}" if person else ""
        contact_id, _ = store.record(
            f"bench:{seed}:{n}", channel="text" if outcome == "conversation" else "call",
            language=rng.choice(("en", "en", "es")), started=started,
            answered=started + waited if person else None, ended=started + waited + 300,
            outcome=outcome, counselor=counselor,
        )  # fmt: skip
        if person and rng.random() < 0.8:
            wrap = WrapUp(
                tuple(rng.sample(DISPOSITIONS, rng.randint(1, 2))), rng.choice(RISKS),
                tuple(rng.sample(REFERRALS, rng.randint(0, 2))),
            )  # fmt: skip
            store.wrap_up(contact_id, counselor, wrap, LISTS)
    line.contacts = count
    return time.perf_counter() - began


def timed_get(line: Line, path: str) -> float:
    began = time.perf_counter()
    answer = line.client.get(path)
    seconds = time.perf_counter() - began
    if answer.status_code != 200:
        raise RuntimeError(f"{line.name} {path}: HTTP {answer.status_code}")
    return seconds


def main() -> None:
    began = time.monotonic()
    today = datetime.now(ZoneInfo(ZONE)).date()
    year_ago = today - timedelta(days=364)
    pages = {
        "reports, last 30 days": "/admin/reports",
        "reports, a year": f"/admin/reports?from={year_ago}&to={today}",
        "monthly page": f"/admin/reports/monthly?month={today:%Y-%m}",
    }
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        directory = Path(folder)
        server = start_server(directory / "redis", port=0, socket_name="reports.sock")
        socket = directory / "redis" / "reports.sock"
        try:
            wait_until_ready(f"unix://{socket}", server)
            small = open_line("small", f"unix://{socket}?db=0", directory)
            big = open_line("big", f"unix://{socket}?db=1", directory)
            fill_small = fill(small, 100, 30, 1)
            fill_big = fill(big, 100_000, 365, 2)
            for line in (small, big):
                # As after an upgrade: every contact recounted by the first report.
                line.redis.delete(f"{TALLIED}:{VERSION}")
            first = {line.name: timed_get(line, "/admin/reports") for line in (small, big)}
            start = datetime(year_ago.year, year_ago.month, year_ago.day, tzinfo=ZoneInfo(ZONE))
            read_began = time.perf_counter()
            read = len(
                Contacts(big.redis, RETENTION_DAYS * 86400).between(
                    start.timestamp(), time.time() + 1
                )
            )
            read_seconds = time.perf_counter() - read_began
            times: dict[tuple[str, str], list[float]] = {}
            for _ in range(ROUNDS):
                for title, path in pages.items():
                    for line in (small, big):
                        times.setdefault((title, line.name), []).append(timed_get(line, path))
            used = int(big.redis.info("memory")["used_memory"])
            tallies = sum(
                int(big.redis.memory_usage(key, samples=0) or 0)
                for key in big.redis.scan_iter("contacts:tally:*", count=1000)
            )
        finally:
            server.terminate()
            server.wait()
    print(machine_line(time.monotonic() - began))
    print(
        f"filled: small {small.contacts} contacts in {fill_small:.1f} s, big {big.contacts} "
        f"contacts in {fill_big:.1f} s (as the line records them, wrap-ups included)"
    )
    print(f"{ROUNDS} rounds; each page on each line in turn; ms (p50 / max); big ÷ small (p50)")
    for title in pages:
        small_ms = [t * 1000 for t in times[(title, "small")]]
        big_ms = [t * 1000 for t in times[(title, "big")]]
        ratio = statistics.median(big_ms) / statistics.median(small_ms)
        print(
            f"  {title:24} small {statistics.median(small_ms):6.1f} / {max(small_ms):6.1f}   "
            f"big {statistics.median(big_ms):6.1f} / {max(big_ms):6.1f}   × {ratio:.2f}"
        )
    print(
        f"first report after an upgrade (every contact recounted, once): small "
        f"{first['small'] * 1000:.0f} ms, big {first['big'] * 1000:.0f} ms"
    )
    print(
        f"for the record, the year read contact by contact (before the tallies): "
        f"{read} contacts in {read_seconds * 1000:.0f} ms"
    )
    print(
        f"memory: the big line's tallies {tallies / 1e6:.1f} MB (MEMORY USAGE); the server "
        f"in all, both lines' contacts included, {used / 1e6:.0f} MB (used_memory)"
    )


if __name__ == "__main__":
    main()
