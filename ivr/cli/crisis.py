"""`helpline crisis`: fit the crisis reader's learned stage, measure it, and
try a text, for the people who write flows/crisis/ (docs/crisis.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ivr.cli.support import cli_settings


def _flows_option() -> click.Option:
    return click.Option(
        ["--flows", "flows_dir"],
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="The content directory (default: HELPLINE_FLOWS_DIR, else flows/).",
    )


def _flows(flows_dir: Path | None) -> Path:
    return flows_dir or cli_settings().flows_dir


@click.group("crisis")
def crisis_group() -> None:
    """The crisis reader: rules and a learned score (flows/crisis/)."""


@crisis_group.command("train", params=[_flows_option()])
def train_command(flows_dir: Path | None) -> None:
    """Fit the learned stage on crisis/train.yaml; write crisis/model.json."""
    from ivr.content.crisis_loader import ENCODER_FILE, ENCODER_INFO, has_encoder
    from ivr.crisis.corpus import CRISIS_DIR, TRAIN_FILE, corpus_digest, load_corpus
    from ivr.crisis.encoder import load_encoder
    from ivr.crisis.rules_file import RULES_FILE, read_rules

    try:
        from ivr.crisis.train import fit_model
    except ImportError as error:  # scikit-learn is a dev dependency
        raise click.ClickException(
            f"{error}: training needs `make train` (the dev lock)"
        ) from error
    folder = _flows(flows_dir) / CRISIS_DIR
    rules, problems = read_rules(folder / RULES_FILE, f"{CRISIS_DIR}/{RULES_FILE}")
    if rules is None:
        raise click.ClickException("\n".join(str(p) for p in problems))
    try:
        examples = load_corpus(folder, TRAIN_FILE)
        encoder = load_encoder(folder, ENCODER_FILE, ENCODER_INFO) if has_encoder(folder) else None
    except ValueError as error:  # EncoderError is one
        raise click.ClickException(str(error)) from error
    started = time.monotonic()
    fitted = fit_model(examples, rules, corpus_digest(folder / TRAIN_FILE), encoder)
    path = folder / "model.json"
    path.write_text(json.dumps(fitted.model.to_json(), separators=(",", ":"), sort_keys=True))
    model = fitted.model
    click.echo(
        f"{path}: {len(model.weights):,} features from {len(examples):,} examples in "
        f"{time.monotonic() - started:.0f} s; thresholds: {model.describe_thresholds()}"
    )
    if fitted.scored_live:
        # Thresholds still rest on unseen texts, but a fine-tuning on them would help.
        click.echo(
            f"{fitted.scored_live:,} examples are new to the encoder (scored as it is): "
            "`make train-encoder` fine-tunes it on them (about an hour and a quarter)"
        )


@crisis_group.command("eval", params=[_flows_option()])
@click.option("--train", "on_train", is_flag=True, help="On the training part (not held out).")
@click.option("--show", is_flag=True, help="List misses and false alarms by file:line.")
def eval_command(flows_dir: Path | None, on_train: bool, show: bool) -> None:
    """Recall, false alarms and time per text on the held-out examples."""
    from ivr.content.crisis_loader import read_crisis
    from ivr.crisis.corpus import CRISIS_DIR, HELDOUT_FILE, TRAIN_FILE, load_corpus
    from ivr.crisis.evaluate import evaluate, render

    directory = _flows(flows_dir)
    reader, problems = read_crisis(directory)
    if reader is None:
        raise click.ClickException("\n".join(str(p) for p in problems))
    name = TRAIN_FILE if on_train else HELDOUT_FILE
    examples = load_corpus(directory / CRISIS_DIR, name)
    for example in examples[:50]:  # the first reads warm caches, as a running line has them
        reader.read(example.text)
    report = evaluate(reader, examples)
    spanish = sum(e.language == "es" for e in examples)
    title = (
        f"crisis reader on {CRISIS_DIR}/{name}: {len(examples)} examples "
        f"({spanish / len(examples):.0%} Spanish), {len(reader.rules.rules)} rules, "
        f"thresholds {reader.model.describe_thresholds()}"
    )
    click.echo(render(report, title, show_examples=show))


@crisis_group.command("read", params=[_flows_option()])
@click.argument("text")
@click.option("--language", default=None, help="The conversation's language, if known.")
def read_command(flows_dir: Path | None, text: str, language: str | None) -> None:
    """How one text is read: crisis or not, category, language, score, why."""
    from ivr.content.crisis_loader import read_crisis

    reader, problems = read_crisis(_flows(flows_dir))
    if reader is None:
        raise click.ClickException("\n".join(str(p) for p in problems))
    reading = reader.read(text, language)
    click.echo(
        f"{reading.outcome}; category: {reading.category or '-'}; language: "
        f"{reading.language or '-'}; confidence {reading.confidence:.3f}; "
        f"stage: {reading.stage.value}; {reading.why}"
    )


@crisis_group.command("decisions")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 24 * 90))
@click.option("--json", "as_json", is_flag=True, help="As JSON, for scripts.")
def decisions_command(hours: int, as_json: bool) -> None:
    """How texts and speech were read in the last HOURS: counts by channel,
    outcome, category, stage, language and score (no words, no numbers) — what
    to review before growing train.yaml (docs/crisis.md)."""
    from ivr.cli.desk import reaching_redis
    from ivr.crisis.decisions import Decisions

    settings = cli_settings()
    with reaching_redis():
        from ivr.cli.support import cli_redis

        counts = Decisions(cli_redis(settings), settings.retention_seconds).counts(hours)
    rows = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].field()))
    if as_json:
        click.echo(json.dumps([{**vars(d), "count": n} for d, n in rows], indent=2))
        return
    if not rows:
        click.echo(f"no readings in the last {hours} h")
        return
    total = sum(counts.values())
    crises = sum(n for d, n in rows if d.outcome == "crisis")
    near = sum(n for d, n in rows if d.outcome == "near")
    click.echo(f"last {hours} h: {total} readings, {crises} crisis, {near} near")
    for decision, count in rows:
        click.echo(
            f"{count:6d}  {decision.channel:5} {decision.outcome:6} {decision.category or '-':18} "
            f"{decision.stage:5} {decision.language or '-':3} score {decision.score}"
        )
