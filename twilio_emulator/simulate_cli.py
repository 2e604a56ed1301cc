"""`helpline simulate call|counselor|sms`: be a caller, a counselor's phone
or a texter against a running line, through the local Twilio emulator.

Each says what it does and why: the caller sees the texts their phone
receives; the texter is told why no reply came when none did; the counselor's
console notices when the caller hangs up; and without an emulator to go
through, each says where it looked and what to run, instead of quietly doing
something else. (`simulate call --direct` posts signed webhooks to the line
itself, without the emulator: the menus only.)
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
import requests

from ivr.cli.support import cli_redis, cli_settings
from ivr.platform.config import Settings
from twilio_emulator.console import ControlClient, PhoneConsole, emulator_candidates, find_emulator
from twilio_emulator.inbox import Inbox, chat, describe_text, stamp, watch_texts
from twilio_emulator.keyboard import TypedLines

TEXTS_AFTER_CALL_SECONDS = 2.0  # a text asked for at the end of a call may still be on its way


def _emulator_for(emulator_url: str | None, settings: Settings, also: str = "") -> str:
    found = find_emulator(emulator_url, settings.twilio_api_url)
    if found:
        return found
    tried = " or ".join(emulator_candidates(emulator_url, settings.twilio_api_url)) or "nowhere"
    raise click.ClickException(
        f"no Twilio emulator answers at {tried}.\n"
        "  Start the line, emulator included, with `make run` in another terminal\n"
        "  (or only the emulator: `helpline emulator`), or say where one runs: --emulator URL."
        + also
    )


@contextmanager
def _emulator_kept(url: str) -> Iterator[None]:
    """An emulator that stops answering midway is one clear line, not a traceback."""
    try:
        yield
    except requests.RequestException as error:
        raise click.ClickException(
            f"lost the Twilio emulator at {url} ({type(error).__name__}): did the line stop?"
        ) from error


@click.group()
def simulate() -> None:
    """Be a caller, a counselor or a texter against a running line."""


@simulate.command("call")
@click.option(
    "--caller", default="+12025550123", show_default=True, help="The number you call from."
)
@click.option(
    "--emulator",
    "emulator_url",
    default=None,
    help="The Twilio emulator to call through (default HELPLINE_TWILIO_API_URL, "
    "else the one `make run` starts).",
)
@click.option(
    "--direct",
    is_flag=True,
    help="No emulator: post signed webhooks to the line itself (the menus only: "
    "no counselors, no texts).",
)
@click.option("--url", default=None, help="With --direct: where the line runs (http://HOST:PORT).")
def simulate_call(caller: str, emulator_url: str | None, direct: bool, url: str | None) -> None:
    """Call the line: hear the menu, press keys or say words, and see the
    texts your phone receives."""
    settings = cli_settings()
    if direct:
        _direct_call(settings, caller, url)
        return
    found = _emulator_for(
        emulator_url,
        settings,
        "\n  Without one, --direct posts signed webhooks to the line itself (the menus only).",
    )
    client = ControlClient(found)
    with _emulator_kept(found):
        inbox = Inbox(client, caller)
        console = PhoneConsole(client, caller, show=click.echo, keyboard=TypedLines(), inbox=inbox)
        console.start()
        click.echo(f"calling {settings.line_number} from {caller} through {found}")
        click.echo("(q or Ctrl-C hangs up; texts the line sends you show as 📱)")
        try:
            client.call_line(caller)
            outcome = console.follow() or "ended"
        except (KeyboardInterrupt, EOFError):
            console.hang_up()
            outcome = "you hung up"
        deadline = time.monotonic() + TEXTS_AFTER_CALL_SECONDS
        while time.monotonic() < deadline:
            for message in inbox.new(now=True):
                click.echo(f"{stamp(0)} {describe_text(message)}")
            time.sleep(0.25)
    click.echo(f"call over: {outcome}")


def _direct_call(settings: Settings, caller: str, url: str | None) -> None:
    from twilio_emulator.simulate import SimulatedCall, Webhooks

    service = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    hooks = Webhooks(service, settings.public_url, settings.twilio_auth_token)
    call = SimulatedCall(
        hooks, caller, settings.line_number, settings.twilio_account_sid, ask=input, show=click.echo
    )
    click.echo(f"calling {settings.line_number} from {caller}: webhooks straight to {service}")
    click.echo("(no emulator: no counselors, no texts; q or Ctrl-C hangs up)")
    try:
        outcome = call.run(settings.public("/voice/incoming"))
    except (KeyboardInterrupt, EOFError):
        outcome = "you hung up"
    except OSError as error:
        raise click.ClickException(
            f"cannot reach the line at {service}: {error}\n  Is it running (`make run`)?"
        ) from error
    click.echo(f"call over: {outcome}")


@simulate.command("counselor")
@click.option("--number", default=None, help="The counselor's phone (default: first on call).")
@click.option("--emulator", "emulator_url", default=None, help="The Twilio emulator's URL.")
@click.option("--once", is_flag=True, help="Stop after one call.")
def simulate_counselor(number: str | None, emulator_url: str | None, once: bool) -> None:
    """Be a counselor's phone: answer when the line rings, hear the whisper,
    press 1 to accept or 2 to pass, talk, hang up."""
    settings = cli_settings()
    found = _emulator_for(emulator_url, settings)
    number = number or _first_on_call(settings)
    with _emulator_kept(found):
        console = PhoneConsole(ControlClient(found), number, show=click.echo, keyboard=TypedLines())
        console.start()
        click.echo(f"{number} waits for the line to ring (Ctrl-C stops)")
        try:
            while True:
                status = console.follow()
                if once:
                    break
                click.echo(f"— {status or 'no call'}; waiting for the next call —")
        except (KeyboardInterrupt, EOFError):
            click.echo("stopped")


def _first_on_call(settings: Settings) -> str:
    """The number of the first counselor on call now, from the line's own
    stored roster (its Redis, as every command reaches it)."""
    from datetime import UTC, datetime

    import redis as redis_module

    from ivr.roster.oncall import who_is_on_call
    from ivr.roster.parse import RosterError
    from ivr.roster.store import RosterStore

    try:
        roster = RosterStore(cli_redis(settings)).load()
    except redis_module.RedisError as error:
        raise click.ClickException(
            f"cannot ask the line's Redis who is on call ({error}); give --number +1…"
        ) from error
    except RosterError as error:
        raise click.ClickException(
            f"the stored roster does not validate ({error}); give --number +1…"
        ) from error
    if roster is None:
        raise click.ClickException(
            "nobody is on call: the roster is empty. Load the example with "
            "`helpline roster import examples/roster.yaml`, or give --number +1…"
        )
    on_call = who_is_on_call(roster, datetime.now(UTC))
    if not on_call:
        raise click.ClickException(
            "nobody is on call right now (`helpline roster oncall`, `helpline roster gaps`); "
            "give --number +1…"
        )
    return str(on_call[0].phone)


@simulate.command("sms")
@click.argument("text", required=False)
@click.option(
    "--from", "sender", default="+12025550123", show_default=True, help="The texting number."
)
@click.option("--wait", "wait_seconds", default=8.0, show_default=True, help="Seconds to watch.")
@click.option(
    "--chat",
    is_flag=True,
    help="Hold a conversation: each line typed is a text (TALK for a "
    "person); what the line and the counselor send shows as it comes. End with Ctrl-D.",
)
@click.option("--emulator", "emulator_url", default=None, help="The Twilio emulator's URL.")
def simulate_sms(
    text: str | None, sender: str, wait_seconds: float, chat: bool, emulator_url: str | None
) -> None:
    """Text the line; show its reply and the texts it sends back for a while,
    or why none came. With --chat, play a texter while someone else plays the
    counselor at /desk in a browser."""
    settings = cli_settings()
    found = _emulator_for(emulator_url, settings)
    client = ControlClient(found)
    if chat:
        _chat(client, found, sender, text)
        return
    if not text:
        raise click.UsageError("give the TEXT to send, or --chat to type a conversation")
    since = time.time()
    with _emulator_kept(found):
        received = watch_texts(client, sender, text, wait_seconds, click.echo)
        if received:
            return
        refused = client.refused_texts(sender, since)
    click.echo(f"no reply came in {wait_seconds:g} s. Why:")
    for reason in _why_no_reply(settings, sender, refused):
        click.echo(f"  - {reason}")


def _why_no_reply(settings: Settings, sender: str, refused: list[dict[str, object]]) -> list[str]:
    import redis as redis_module

    from ivr.sms.held_back import reasons_held_back

    reasons = [
        f"the emulator, as Twilio, refused a text to this number (HTTP {entry.get('status')}"
        + (f", error {entry['error_code']}" if entry.get("error_code") else "")
        + (
            ": this number texted STOP, and Twilio itself refuses the line's texts to it "
            "until START (a real Twilio would confirm the STOP itself; the emulator does not)"
            if entry.get("error_code") == 21610
            else ""
        )
        + ")"
        for entry in refused
    ]
    try:
        reasons += reasons_held_back(cli_redis(settings), settings, sender)
    except redis_module.RedisError as error:
        reasons.append(f"cannot ask the line's Redis ({error}): is the line running?")
    if not reasons:
        reasons.append(
            "the line records nothing that holds a reply back: it may still be on its "
            "way (try a longer --wait), or look at the worker's log in the `make run` terminal"
        )
    return reasons


def _chat(client: ControlClient, found: str, sender: str, first: str | None) -> None:
    """Lines from the terminal, one text each, until end of input."""
    typed: queue.Queue[str | None] = queue.Queue()
    if first:
        typed.put(first)

    def read() -> None:
        for line in sys.stdin:
            typed.put(line.rstrip("\n"))
        typed.put(None)

    threading.Thread(target=read, name="texter", daemon=True).start()
    click.echo(f"texting the line from {sender}: type a line and Enter to send; Ctrl-D ends.")
    with _emulator_kept(found):
        chat(client, sender, typed, click.echo)
