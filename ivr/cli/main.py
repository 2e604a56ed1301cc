"""The `helpline` console script: a plain click group of the line's own
commands (Flask's `run`, `shell` and `routes` are not ours to offer).

Commands that only read content (`flows check`, `flows graph`) never build the
app, so they work on broken content and without Redis.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import click
from flask import Flask

from ivr.cli.accounts import audit_command, password_group, token_group
from ivr.cli.backup import backup_command, restore_command
from ivr.cli.block import block_group
from ivr.cli.callbacks import callbacks
from ivr.cli.contacts import contacts_group
from ivr.cli.conversations import conversations_group
from ivr.cli.crisis import crisis_group
from ivr.cli.golive import fallback_group, twilio_group
from ivr.cli.jobs import jobs_group
from ivr.cli.reports import report_command
from ivr.cli.roster import roster
from ivr.cli.status import figures_command, now_command, optout_group, voicemail_group
from ivr.cli.support import cli_settings
from ivr.cli.urgent import urgent_group

_settings = cli_settings
DISTRIBUTION = "helpline"
PLUGIN_GROUP = "helpline.commands"


def build_app() -> Flask:
    # Imported here: the app imports every page and route, 0.2 s that the
    # commands which never build it (`helpline worker` among them) should not pay.
    from ivr.app import create_app
    from ivr.content.loader import ContentError

    settings = _settings()
    try:
        return create_app(settings)
    except ContentError as error:
        raise click.ClickException(
            f"the content in {settings.flows_dir} has problems (run `helpline flows check`):\n"
            + "\n".join(str(p) for p in error.problems)
        ) from error


def version() -> str:
    """The helpline's version, as its installed package says."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed: `make run` installs it)"


def _print_version(ctx: click.Context, _param: click.Parameter, wanted: bool) -> None:
    if not wanted or ctx.resilient_parsing:
        return
    click.echo(f"helpline {version()}")
    ctx.exit()


class HelplineGroup(click.Group):
    """The line's own commands, and those other installed packages offer under
    `helpline` (the local Twilio's `emulator` and `simulate`), named in their
    entry points so the line's own code never imports them. Those are loaded
    only when asked for: scanning the installed packages and importing the
    emulator cost every command 0.2 s, `helpline worker`'s start included
    (docs/benchmarks.md)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        offered = {entry.name for entry in metadata.entry_points(group=PLUGIN_GROUP)}
        return sorted(set(super().list_commands(ctx)) | offered)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for entry in metadata.entry_points(group=PLUGIN_GROUP, name=cmd_name):
            loaded = entry.load()
            if isinstance(loaded, click.Command):
                return loaded
        return None


# A plain group: listing the commands builds no app (building it starts the
# development Redis), and nothing of Flask's own command line shows.
@click.group(cls=HelplineGroup)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the helpline's version and exit.",
)
def main() -> None:
    """The helpline: phone menu, texts and counselors on call."""


@main.command()
def serve() -> None:
    """The web service, under gunicorn."""
    from ivr.platform.logs import configure_logging
    from ivr.processes.server import serve as run_server

    settings = _settings()
    configure_logging(settings)  # before the app: Flask and gunicorn log through it
    run_server(build_app(), settings)


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(burst: bool) -> None:
    """An RQ worker for the line's jobs, scheduler and sweeper included."""
    from ivr.platform.logs import configure_logging
    from ivr.processes.worker import run_worker

    settings = _settings()
    configure_logging(settings)
    run_worker(settings, burst=burst)


@main.command()
def run() -> None:
    """Everything at once, in the foreground (what `make run` does)."""
    from ivr.platform.logs import configure_logging
    from ivr.processes.devrun import run_all

    settings = _settings()
    configure_logging(settings)  # its children, `serve` and `worker`, each do the same
    sys.exit(run_all(settings))


main.add_command(roster)
main.add_command(callbacks)
main.add_command(token_group)
main.add_command(password_group)
main.add_command(audit_command)
main.add_command(now_command)
main.add_command(report_command)
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
main.add_command(contacts_group)
main.add_command(conversations_group)


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
