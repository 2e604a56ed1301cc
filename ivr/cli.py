"""The `helpline` console script, through Flask's click support.

Commands that only read content (`flows check`, `flows graph`) never build the
app, so they work on broken content and without Redis.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, NoAppException

from ivr import create_app
from ivr.backup_cli import backup_command, restore_command
from ivr.callbacks_cli import callbacks
from ivr.cli_support import cli_settings
from ivr.crisis_cli import crisis_group
from ivr.emulator.cli import emulator
from ivr.golive.cli import fallback_group, twilio_group
from ivr.jobs_cli import jobs_group
from ivr.operators.blocklist_cli import block_group
from ivr.operators.cli import audit_command, password_group, token_group
from ivr.operators.status_cli import figures_command, now_command, optout_group, voicemail_group
from ivr.operators.urgent_cli import urgent_group
from ivr.roster.cli import roster

_settings = cli_settings


def _app() -> Flask:
    from ivr.content.loader import ContentError

    settings = _settings()
    try:
        return create_app(settings)
    except ContentError as error:
        # NoAppException: click shows it cleanly, even while listing commands.
        raise NoAppException(
            f"the content in {settings.flows_dir} has problems (run `helpline flows check`):\n"
            + "\n".join(str(p) for p in error.problems)
        ) from error


class HelplineGroup(FlaskGroup):
    """Flask's group, without building the app just to list the commands:
    building it starts the development Redis, and `helpline --help` left one
    running. The line's commands are all registered here, none on `app.cli`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


@click.group(cls=HelplineGroup, create_app=_app, add_default_commands=False, load_dotenv=False)
def main() -> None:
    """The helpline: phone menu, texts and counselors on call."""


@main.command(with_appcontext=False)
def serve() -> None:
    """The web service, under gunicorn."""
    from ivr.logs import configure_logging
    from ivr.server import serve as run_server

    settings = _settings()
    configure_logging(settings)  # before the app: Flask and gunicorn log through it
    run_server(_app(), settings)


@main.command(with_appcontext=False)
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(burst: bool) -> None:
    """An RQ worker for the line's jobs, scheduler and sweeper included."""
    from ivr.logs import configure_logging
    from ivr.worker import run_worker

    settings = _settings()
    configure_logging(settings)
    run_worker(settings, burst=burst)


@main.command(with_appcontext=False)
def run() -> None:
    """Everything at once, in the foreground (what `make run` does)."""
    from ivr.devrun import run_all
    from ivr.logs import configure_logging

    settings = _settings()
    configure_logging(settings)  # its children, `serve` and `worker`, each do the same
    sys.exit(run_all(settings))


main.add_command(emulator)
main.add_command(roster)
main.add_command(callbacks)
main.add_command(token_group)
main.add_command(password_group)
main.add_command(audit_command)
main.add_command(now_command)
main.add_command(urgent_group)
main.add_command(voicemail_group)
main.add_command(figures_command)
main.add_command(optout_group)
main.add_command(jobs_group)
main.add_command(block_group)
main.add_command(twilio_group)
main.add_command(fallback_group)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(crisis_group)


@main.group(cls=click.Group)
def flows() -> None:
    """Check and draw the content in flows/."""


@flows.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def flows_check(directory: Path | None) -> None:
    """Validate all content; each problem as file:line: message."""
    from ivr.content.check import check_directory

    target = directory or _settings().flows_dir
    if not target.is_dir():
        raise click.ClickException(f"{target} is not a directory")
    problems = check_directory(target)
    for problem in problems:
        click.echo(f"{target / problem.file}:{problem.line}: {problem.message}")
    if problems:
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"{target}: content OK")


@flows.command("graph")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write SVG or PNG (by extension) with the Mermaid CLI, if installed.",
)
def flows_graph(directory: Path | None, output: Path | None) -> None:
    """The phone menu as a Mermaid diagram."""
    from ivr.content.check import load_content
    from ivr.content.graph import mermaid
    from ivr.content.loader import ContentError

    try:
        text = mermaid(load_content(directory or _settings().flows_dir))
    except ContentError as error:
        raise click.ClickException(
            f"content has problems; run `helpline flows check`\n{error}"
        ) from error
    if output is None:
        click.echo(text, nl=False)
        return
    if output.suffix == ".mmd":
        output.write_text(text)
        return
    renderer = shutil.which("mmdc")
    if renderer is None:
        raise click.ClickException(
            "no renderer: install the Mermaid CLI (`npm install -g @mermaid-js/mermaid-cli`) "
            "for SVG/PNG, or write .mmd text"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".mmd", delete=False) as source:
        source.write(text)
    subprocess.run([renderer, "-i", source.name, "-o", str(output)], check=True)  # noqa: S603


@main.group(cls=click.Group)
def simulate() -> None:
    """Be a caller or texter against a running line."""


@simulate.command("call")
@click.option("--url", default=None, help="Where the line runs (default http://HOST:PORT).")
@click.option(
    "--caller", default="+12025550123", show_default=True, help="The number you call from."
)
@click.option(
    "--emulator",
    "emulator_url",
    default=None,
    help="The Twilio emulator to call through (default HELPLINE_TWILIO_API_URL, if one runs).",
)
def simulate_call(url: str | None, caller: str, emulator_url: str | None) -> None:
    """Call the line: hear the menu, press keys or say words.

    Through the local Twilio emulator when one is reachable (the whole line:
    queues, counselors, texts); else by posting signed webhooks directly."""
    from ivr.emulator.console import ControlClient, PhoneConsole, find_emulator
    from ivr.simulate import SimulatedCall, Webhooks

    settings = _settings()
    found = find_emulator(emulator_url, settings.twilio_api_url)
    if emulator_url and not found:
        raise click.ClickException(f"no emulator answers at {emulator_url}")
    if found:
        client = ControlClient(found)
        console = PhoneConsole(client, caller, ask=input, show=click.echo)
        console.start()
        click.echo(f"calling {settings.line_number} from {caller} through {found}")
        click.echo("(Ctrl-C or q hangs up)")
        try:
            client.call_line(caller)
            outcome = console.follow() or "ended"
        except (KeyboardInterrupt, EOFError):
            console.hang_up()
            outcome = "you hung up"
        click.echo(f"call over: {outcome}")
        return
    service = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    hooks = Webhooks(service, settings.public_url, settings.twilio_auth_token)
    call = SimulatedCall(
        hooks, caller, settings.line_number, settings.twilio_account_sid, ask=input, show=click.echo
    )
    click.echo(f"calling {settings.line_number} from {caller} (Ctrl-C or q hangs up)")
    try:
        outcome = call.run(settings.public("/voice/incoming"))
    except (KeyboardInterrupt, EOFError):
        outcome = "you hung up"
    except OSError as error:
        raise click.ClickException(f"cannot reach the line at {service}: {error}") from error
    click.echo(f"call over: {outcome}")


def _emulator_for(emulator_url: str | None) -> str:
    from ivr.emulator.console import find_emulator

    found = find_emulator(emulator_url, _settings().twilio_api_url)
    if not found:
        raise click.ClickException(
            "no Twilio emulator is reachable: start the line with `make run` (or "
            "`helpline emulator`), or say where with --emulator URL"
        )
    return found


@simulate.command("counselor")
@click.option("--number", default=None, help="The counselor's phone (default: first on call).")
@click.option("--emulator", "emulator_url", default=None, help="The Twilio emulator's URL.")
@click.option("--once", is_flag=True, help="Stop after one call.")
def simulate_counselor(number: str | None, emulator_url: str | None, once: bool) -> None:
    """Be a counselor's phone: answer when the line rings, hear the whisper,
    press 1 to accept or 2 to pass, talk, hang up."""
    from ivr.emulator.console import ControlClient, PhoneConsole

    found = _emulator_for(emulator_url)
    number = number or _first_on_call()
    console = PhoneConsole(ControlClient(found), number, ask=input, show=click.echo)
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


def _first_on_call() -> str:
    """The number of the first counselor on call now, from the stored roster."""
    from datetime import UTC, datetime

    import redis as redis_module

    from ivr.roster.oncall import who_is_on_call
    from ivr.roster.store import RosterStore

    try:
        settings = _settings()
        client = redis_module.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
        roster = RosterStore(client).load()
        if roster is None:
            raise LookupError("no roster")
        return str(who_is_on_call(roster, datetime.now(UTC))[0].phone)
    except Exception as error:
        raise click.ClickException(
            f"cannot tell who is on call ({type(error).__name__}); give --number +1…"
        ) from error


@simulate.command("sms")
@click.argument("text")
@click.option(
    "--from", "sender", default="+12025550123", show_default=True, help="The texting number."
)
@click.option("--wait", "wait_seconds", default=8.0, show_default=True, help="Seconds to watch.")
@click.option("--emulator", "emulator_url", default=None, help="The Twilio emulator's URL.")
def simulate_sms(text: str, sender: str, wait_seconds: float, emulator_url: str | None) -> None:
    """Text the line; show its reply and the texts it sends back for a while."""
    from ivr.emulator.console import ControlClient, watch_texts

    client = ControlClient(_emulator_for(emulator_url))
    watch_texts(client, sender, text, wait_seconds, click.echo)
