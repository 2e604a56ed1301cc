"""The `helpline` console script, through Flask's click support.

Commands that only read content (`flows check`, `flows graph`) never build the
app, so they work on broken content and without Redis.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, NoAppException

from ivr import create_app
from ivr.callbacks_cli import callbacks
from ivr.config import ConfigError, Settings, load_settings
from ivr.emulator.cli import emulator
from ivr.roster.cli import roster


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(
            "the line cannot start:\n  " + "\n  ".join(error.problems)
        ) from error


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


@click.group(cls=FlaskGroup, create_app=_app, add_default_commands=False, load_dotenv=False)
def main() -> None:
    """The helpline: phone menu, texts and counselors on call."""


@main.command(with_appcontext=False)
def serve() -> None:
    """The web service, under gunicorn."""
    from ivr.server import serve as run_server

    settings = _settings()
    run_server(_app(), settings)


@main.command(with_appcontext=False)
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(burst: bool) -> None:
    """An RQ worker for the line's jobs, scheduler and sweeper included."""
    from ivr.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(_settings(), burst=burst)


@main.command(with_appcontext=False)
def run() -> None:
    """Everything at once, in the foreground (what `make run` does)."""
    from ivr.devrun import run_all

    sys.exit(run_all(_settings()))


main.add_command(emulator)
main.add_command(roster)
main.add_command(callbacks)


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
def simulate_call(url: str | None, caller: str) -> None:
    """Call the line: hear the menu, press keys or say words."""
    from ivr.simulate import SimulatedCall, Webhooks

    settings = _settings()
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
