"""`helpline now`, `voicemail`, `figures`, `optout check` and `callbacks
done|show` against a real Redis: the admin pages' views and actions from a
terminal. Callers' numbers stay masked in everything printed, except the one
audited `callbacks show --reveal`; every change or lookup is in the audit log
under the OS user, with the API's action names."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Protocol

import pytest
import redis
from click.testing import CliRunner, Result

from ivr.callbacks.requests import Callbacks
from ivr.callbacks.voicemail import store_voicemail
from ivr.cli.main import main
from ivr.operators.audit import AuditLog
from ivr.routing.dispatches import Dispatches
from ivr.routing.figures import Figures
from ivr.sms.optout import OptOuts
from loadtest.ports import free_port
from tests.conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, RedisServer
from tests.rosters import store_always_on_call

SECRET_KEY = "test-secret-key-" + "x" * 32
ZONE = "America/Chicago"  # the CLI line's HELPLINE_TIMEZONE: its figures' days
WAITING_CALLER = "+12025550161"
TALKING_CALLER = "+12025550162"
VOICEMAIL_CALLER = "+12025550163"
CALLBACK_CALLER = "+12025550188"
# The digits a full number shows; a mask shows only the last four.
EVERY_NUMBER = ("2025550161", "2025550162", "2025550163", "2025550188", "2025550111", "2025550112")


class Run(Protocol):
    """`helpline ARGS…` with the test line's settings, as OS user "dana"."""

    def __call__(self, *args: str) -> Result: ...


def _environment(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "HELPLINE_ENV": "development",
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HELPLINE_SECRET_KEY": SECRET_KEY,
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_VAR_DIR": str(tmp_path / "var"),
        "HELPLINE_TIMEZONE": ZONE,
        # getpass.getuser() reads LOGNAME first.
        "LOGNAME": "dana",
    }


def _runner(env: dict[str, str]) -> Run:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def run(redis_client: redis.Redis, redis_server: RedisServer, tmp_path: Path) -> Run:
    return _runner(_environment(redis_server.url, tmp_path))


@pytest.fixture
def callbacks(redis_client: redis.Redis) -> Callbacks:
    return Callbacks(redis_client, SECRET_KEY, 3600)


@pytest.fixture
def busy_line(redis_client: redis.Redis, callbacks: Callbacks) -> str:
    """Alex talks with one caller while another waits, two calls were offered
    today (one answered after 12 s), one voicemail is new and linked to its
    callback request. Returns that callback's reference."""
    store_always_on_call(redis_client)
    dispatches = Dispatches(redis_client, 3600)
    dispatches.open_for_call("CA" + "1" * 32, WAITING_CALLER, "es", "counselor")
    talking, _ = dispatches.open_for_call("CA" + "2" * 32, TALKING_CALLER, "en", "counselor")
    leg = dispatches.add_leg(talking.id, "alex", 1)
    assert leg is not None
    assert dispatches.claim(talking.id, leg) == "won"
    figures = Figures(redis_client, ZONE)
    figures.offered()
    figures.offered()
    figures.answered(12.0, "alex")
    _voicemail(redis_client, "RE" + "1" * 32, VOICEMAIL_CALLER)
    reference = callbacks.create(VOICEMAIL_CALLER, "en", "voicemail")
    redis_client.hset("voicemail:RE" + "1" * 32, "callback", reference)
    return reference


def _voicemail(client: redis.Redis, sid: str, caller: str) -> None:
    assert store_voicemail(
        client,
        recording_sid=sid,
        recording_url=f"https://api.twilio.com/Recordings/{sid}",
        duration_seconds=75,
        call_sid="CA" + "3" * 32,
        caller=caller,
        language="en",
        retention_seconds=3600,
    )


def _no_full_number(text: str) -> None:
    for digits in EVERY_NUMBER:
        assert digits not in text


# -- now ----------------------------------------------------------------------------


def test_now_shows_who_is_on_call_waiting_and_talking_with_numbers_masked(
    run: Run, busy_line: str
) -> None:
    result = run("now")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"1 waiting · 1 connected · answered today ({ZONE}) 1 of 2 (50%) · "
        "1 callbacks open · 1 new voicemails"
    ) in lines
    alex = next(line for line in lines if line.startswith("  alex "))
    assert "…0111" in alex
    assert alex.endswith("on a call")
    blanca = next(line for line in lines if line.startswith("  blanca "))
    assert "en, es" in blanca
    assert blanca.endswith("free")
    waiting = next(line for line in lines if "…0161" in line)
    assert re.fullmatch(r"  …0161  es  waiting  for \d+ s", waiting)
    talking = next(line for line in lines if "…0162" in line)
    assert "with alex" in talking
    assert "talking " in talking
    _no_full_number(result.output)


def test_now_says_when_nobody_is_on_call_or_waiting(run: Run) -> None:
    result = run("now")
    assert result.exit_code == 0, result.output
    assert "no roster yet: nobody is on call" in result.output
    assert "Nobody is on call: callers are offered voicemail" in result.output
    assert "Nobody is waiting." in result.output
    assert "No calls in progress." in result.output
    assert f"answered today ({ZONE}) 0 of 0 (—)" in result.output


def test_now_as_json_has_the_apis_field_names(run: Run, busy_line: str) -> None:
    result = run("now", "--json")
    assert result.exit_code == 0, result.output
    board = json.loads(result.output)
    assert [(p["id"], p["phone"], p["busy"]) for p in board["on_call"]] == [
        ("alex", "…0111", True),
        ("blanca", "…0112", False),
    ]
    assert board["on_call"][1]["languages"] == ["en", "es"]
    [waiting] = board["waiting"]
    assert (waiting["caller"], waiting["language"], waiting["state"]) == ("…0161", "es", "waiting")
    assert waiting["counselor"] is None
    [talking] = board["connected"]
    assert (talking["caller"], talking["counselor"], talking["state"]) == (
        "…0162",
        "alex",
        "bridged",
    )
    assert isinstance(talking["talking_seconds"], int)
    today = board["today"]
    assert (today["offered"], today["answered"], today["answer_rate"]) == (2, 1, 0.5)
    assert today["average_speed_of_answer_seconds"] == 12.0
    assert today["answered_by"] == {"alex": 1}
    assert (board["open_callbacks"], board["new_voicemails"], board["notes"]) == (1, 1, [])
    assert board["at"].endswith("+00:00")
    _no_full_number(result.output)


# -- voicemail ------------------------------------------------------------------------


def test_voicemail_list_shows_new_ones_masked_with_their_callback(
    run: Run, redis_client: redis.Redis, busy_line: str
) -> None:
    _voicemail(redis_client, "RE" + "2" * 32, "+12025550164")
    redis_client.hset("voicemail:RE" + "2" * 32, "status", "done")
    result = run("voicemail", "list")
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert line.split()[:2] == ["RE" + "1" * 32, "new"]
    assert "1 min 15 s" in line
    assert "…0163" in line
    assert f"callback {busy_line}" in line
    assert line.endswith("https://api.twilio.com/Recordings/RE" + "1" * 32)
    everything = run("voicemail", "list", "--all").output.splitlines()
    assert len(everything) == 2
    assert any("RE" + "2" * 32 in line and " done " in line for line in everything)
    assert "2025550164" not in "".join(everything)
    _no_full_number(result.output + "".join(everything))


def test_voicemail_list_when_there_are_none(run: Run) -> None:
    assert run("voicemail", "list").output == "no new voicemails\n"
    assert run("voicemail", "list", "--all").output == "no voicemails\n"


def test_voicemail_done_marks_it_and_is_audited(
    run: Run, redis_client: redis.Redis, busy_line: str
) -> None:
    sid = "RE" + "1" * 32
    result = run("voicemail", "done", sid)
    assert result.exit_code == 0, result.output
    assert result.output == f"voicemail {sid} done\n"
    assert redis_client.hget(f"voicemail:{sid}", "status") == b"done"
    assert run("voicemail", "list").output == "no new voicemails\n"
    [entry] = AuditLog(redis_client).recent()
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "voicemail.status", sid)
    assert (entry.before, entry.after) == ("new", "done")


def test_voicemail_done_for_an_unknown_one_changes_nothing(
    run: Run, redis_client: redis.Redis
) -> None:
    result = run("voicemail", "done", "RE-missing")
    assert result.exit_code == 1
    assert "no voicemail RE-missing" in result.output
    assert AuditLog(redis_client).recent() == []


# -- figures --------------------------------------------------------------------------


def test_figures_shows_each_day_a_total_and_answers_by_counselor(
    run: Run, redis_client: redis.Redis
) -> None:
    figures = Figures(redis_client, ZONE)
    for _ in range(4):
        figures.offered()
    figures.answered(10.0, "alex")
    figures.answered(20.0, "alex")
    figures.answered(6.0, "blanca")
    figures.abandoned(40.0)
    result = run("figures", "--days", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    counts = ["offered", "answered", "abandoned", "unanswered", "answer", "rate", "avg", "answer"]
    assert lines[0].split() == ["day", f"({ZONE})", *counts]  # the days: the line's zone
    today, yesterday, before = lines[1:4]
    assert today.split() == [today.split()[0], "4", "3", "1", "0", "75.0%", "12.0", "s"]
    assert yesterday.split()[1:] == ["0", "0", "0", "0", "—", "—"]
    assert before.split()[0] < yesterday.split()[0] < today.split()[0]
    assert lines[4].split() == ["total", "4", "3", "1", "0", "75.0%", "12.0", "s"]
    assert lines[6] == "Answered by counselor, last 3 days"
    assert [line.split() for line in lines[7:]] == [["alex", "2"], ["blanca", "1"]]


def test_figures_as_json(run: Run, redis_client: redis.Redis) -> None:
    figures = Figures(redis_client, ZONE)
    figures.offered()
    figures.offered()
    figures.answered(8.0, "blanca")
    result = run("figures", "--days", "2", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["answered_by"] == {"blanca": 1}
    earlier, today = found["days"]
    assert earlier["day"] < today["day"]
    assert earlier["answer_rate"] is None
    assert today == {
        "day": today["day"],
        "offered": 2,
        "answered": 1,
        "abandoned": 0,
        "unanswered": 0,
        "answer_rate": 0.5,
        "average_speed_of_answer_seconds": 8.0,
        "abandonment_rate": 0.0,
        "answered_by": {"blanca": 1},
    }


def test_figures_with_no_calls_and_a_bad_period(run: Run) -> None:
    quiet = run("figures", "--days", "1")
    assert quiet.exit_code == 0, quiet.output
    assert "no calls answered" in quiet.output
    refused = run("figures", "--days", "0")
    assert refused.exit_code == 2
    assert "--days" in refused.output


# -- opt-outs -------------------------------------------------------------------------


def test_optout_check_matches_by_hash_and_audits_the_masked_number(
    run: Run, redis_client: redis.Redis
) -> None:
    OptOuts(redis_client, SECRET_KEY).opt_out("+12025550177", "STOP")
    found = run("optout", "check", "(202) 555-0177")
    assert found.exit_code == 0, found.output
    assert found.output.startswith("…0177 has opted out")
    other = run("optout", "check", "+12025550178")
    assert other.exit_code == 0, other.output
    assert other.output == "…0178 has not opted out\n"
    second, first = AuditLog(redis_client).recent()
    assert (first.who, first.action, first.target) == ("cli:dana", "optout.lookup", "…0177")
    assert (second.action, second.target) == ("optout.lookup", "…0178")
    assert "5550177" not in found.output
    assert "5550178" not in other.output


def test_optout_check_of_a_bad_number_is_a_usage_error_and_not_audited(
    run: Run, redis_client: redis.Redis
) -> None:
    result = run("optout", "check", "not a number")
    assert result.exit_code == 2
    assert "Invalid value for NUMBER: not a phone number" in result.output
    assert AuditLog(redis_client).recent() == []


# -- callbacks done and show ----------------------------------------------------------------


def test_callbacks_done_goes_through_the_overview_and_is_audited(
    run: Run, redis_client: redis.Redis, callbacks: Callbacks
) -> None:
    reference = callbacks.create(CALLBACK_CALLER, "en", "sms")
    result = run("callbacks", "done", reference)
    assert result.exit_code == 0, result.output
    assert result.output == f"{reference} done\n"
    record = callbacks.get(reference)
    assert (record["status"], record["by"]) == ("done", "cli:dana")
    assert callbacks.open_references() == []
    assert redis_client.zscore("callbacks:done", reference) is not None  # listed as done
    [entry] = AuditLog(redis_client).recent()
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "callback.status", reference)
    assert (entry.before, entry.after) == ("open", "done")


def test_callbacks_done_for_an_unknown_request(run: Run, redis_client: redis.Redis) -> None:
    result = run("callbacks", "done", "CB-NOSUCH")
    assert result.exit_code == 1
    assert "no callback request CB-NOSUCH" in result.output
    assert AuditLog(redis_client).recent() == []


def test_callbacks_show_masks_the_number_and_records_nothing(
    run: Run, redis_client: redis.Redis, callbacks: Callbacks
) -> None:
    reference = callbacks.create(CALLBACK_CALLER, "es", "crisis", urgent=True)
    result = run("callbacks", "show", reference)
    assert result.exit_code == 0, result.output
    shown = dict(line.split(None, 1) for line in result.output.splitlines())
    assert shown["reference"] == reference
    assert (shown["status"], shown["urgent"], shown["source"]) == ("open", "yes", "crisis")
    assert (shown["language"], shown["tries"], shown["number"]) == ("es", "0", "…0188")
    _no_full_number(result.output)
    assert AuditLog(redis_client).recent() == []


def test_callbacks_show_reveal_prints_the_full_number_and_is_audited(
    run: Run, redis_client: redis.Redis, callbacks: Callbacks
) -> None:
    reference = callbacks.create(CALLBACK_CALLER, "en", "voicemail")
    result = run("callbacks", "show", reference, "--reveal")
    assert result.exit_code == 0, result.output
    assert f"number     {CALLBACK_CALLER}" in result.output.splitlines()
    [entry] = AuditLog(redis_client).recent()
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "callback.reveal", reference)
    assert "2025550188" not in run("audit").output


def test_callbacks_show_of_an_unknown_request_reveals_and_records_nothing(
    run: Run, redis_client: redis.Redis
) -> None:
    result = run("callbacks", "show", "CB-NOSUCH", "--reveal")
    assert result.exit_code == 1
    assert "no callback request CB-NOSUCH" in result.output
    assert AuditLog(redis_client).recent() == []


# -- the whole set ----------------------------------------------------------------------


def test_no_reading_command_prints_a_full_number(
    run: Run, redis_client: redis.Redis, busy_line: str
) -> None:
    readings = [
        ("now",),
        ("now", "--json"),
        ("voicemail", "list", "--all"),
        ("figures",),
        ("figures", "--json"),
        ("callbacks", "list"),
        ("callbacks", "show", busy_line),
        ("callbacks", "done", busy_line),
        ("voicemail", "done", "RE" + "1" * 32),
        ("optout", "check", VOICEMAIL_CALLER),
        ("audit",),
    ]
    for args in readings:
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        _no_full_number(result.output)


@pytest.mark.parametrize(
    "args",
    [
        ("now",),
        ("voicemail", "list"),
        ("voicemail", "done", "RE1"),
        ("figures",),
        ("optout", "check", "+12025550177"),
        ("callbacks", "done", "CB-X"),
        ("callbacks", "show", "CB-X"),
    ],
)
def test_a_redis_that_is_down_is_a_one_line_error(args: tuple[str, ...], tmp_path: Path) -> None:
    down = _runner(_environment(f"redis://127.0.0.1:{free_port()}/0", tmp_path))
    result = down(*args)
    assert result.exit_code == 1
    assert "Error: cannot reach Redis" in result.output
    assert "Traceback" not in result.output


# -- urgent work ----------------------------------------------------------------------------


def test_urgent_work_is_listed_and_taken_once_from_the_command_line(
    run: Run, redis_client: redis.Redis, callbacks: Callbacks
) -> None:
    from ivr.callbacks.urgent import UrgentItems

    reference = callbacks.create(CALLBACK_CALLER, "es", "crisis text", urgent=True)
    UrgentItems(redis_client, 3600).open(reference, "crisis", "es", time.time() + 300)
    listed = run("urgent", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{reference}  crisis, es, waiting 0 min, step on_call" in listed.output
    assert CALLBACK_CALLER[-4:] not in listed.output  # no number at all
    now = run("now")
    assert "URGENT, not taken yet (1)" in now.output
    assert json.loads(run("now", "--json").output)["urgent"][0]["reference"] == reference
    taken = run("urgent", "claim", reference)
    assert taken.exit_code == 0, taken.output
    assert run("urgent", "list").output == "no urgent work waiting\n"
    again = run("urgent", "claim", reference)
    assert again.exit_code == 1
    assert "already taken" in again.output
    assert run("urgent", "claim", "CB-NOSUCH").exit_code == 1
    [entry] = AuditLog(redis_client).recent()
    assert (entry.who, entry.action, entry.target) == ("cli:dana", "urgent.claim", reference)


def test_marking_an_urgent_callback_done_stops_its_ladder(
    run: Run, redis_client: redis.Redis, callbacks: Callbacks
) -> None:
    from ivr.callbacks.urgent import UrgentItems

    reference = callbacks.create(CALLBACK_CALLER, "en", "voicemail")
    items = UrgentItems(redis_client, 3600)
    items.open(reference, "voicemail", "en", time.time())
    assert run("callbacks", "done", reference).exit_code == 0
    item = items.get(reference)
    assert item is not None
    assert item.claimed_by == "cli:dana"
    assert items.due() == []


def test_crisis_decisions_are_listed_as_counts(run: Run, redis_client: redis.Redis) -> None:
    from ivr.content.check import load_content
    from ivr.crisis.decisions import Decisions

    content = load_content(Path(__file__).resolve().parents[2] / "flows")
    Decisions(redis_client, 3600).record(content.crisis.read("i want to kill myself"), "sms")
    listed = run("crisis", "decisions", "--hours", "2")
    assert listed.exit_code == 0, listed.output
    assert "1 readings, 1 crisis, 0 near" in listed.output
    assert "sms   crisis suicidal" in listed.output
    assert "kill" not in listed.output
    assert json.loads(run("crisis", "decisions", "--json").output)[0]["count"] == 1
