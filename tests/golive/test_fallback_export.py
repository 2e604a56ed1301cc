"""The static fallback: valid TwiML that speaks the crisis numbers in every
language, and — with the service down — what a caller and a texter really get
through the emulator, following the number as `twilio setup` left it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from twilio.rest import Client

from ivr.cli.main import main
from ivr.content.model import Content
from ivr.golive.fallback_export import export, fallback_documents
from ivr.golive.twilio_setup import apply_plan, find_number, plan_for, wanted_settings
from ivr.platform.twilio_transport import twilio_client
from tests.golive.conftest import BACKUP_NUMBER, CALLER, LINE_NUMBER, settings_for
from twilio_emulator import EmulatorServer, talk
from twilio_emulator.twiml import parse

# What Twilio's TwiML allows at the top of each kind of document, and inside.
VOICE_VERBS = {"Say", "Dial", "Record", "Hangup", "Pause", "Redirect"}
SMS_VERBS = {"Message"}


@pytest.fixture
def documents(content: Content) -> dict[str, str]:
    return fallback_documents(content, BACKUP_NUMBER)


def test_every_file_is_twiml(documents: dict[str, str]) -> None:
    assert set(documents) == {
        "voice.xml",
        "voice-after.xml",
        "voice-goodbye.xml",
        "sms.xml",
        "sms-en.xml",
        "sms-es.xml",
    }
    for name, document in documents.items():
        assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>')
        root = parse(document)  # the emulator's parser: Twilio's 12100 if it is not TwiML
        allowed = SMS_VERBS if name.startswith("sms") else VOICE_VERBS
        assert root.tag == "Response"
        assert {verb.tag for verb in root} <= allowed, name
        assert all((verb.text or "").strip() or len(verb) or verb.tag != "Say" for verb in root)


@pytest.mark.parametrize("name", ["voice.xml", "voice-after.xml", "voice-goodbye.xml"])
def test_each_voice_file_speaks_the_crisis_numbers_in_both_languages(
    documents: dict[str, str], name: str
) -> None:
    says = parse(documents[name]).findall("Say")
    assert [say.get("language") for say in says][:2] == ["en-US", "es-US"]
    for say in says[:2]:
        assert "9 8 8" in (say.text or "")
        assert "9 1 1" in (say.text or "")


def test_the_voice_fallback_dials_the_backup_line_and_links_by_relative_get(
    documents: dict[str, str],
) -> None:
    dial = parse(documents["voice.xml"]).find("Dial")
    assert dial is not None
    assert [n.text for n in dial.findall("Number")] == [BACKUP_NUMBER]
    assert (dial.get("action"), dial.get("method")) == ("voice-after.xml", "GET")
    record = parse(documents["voice-after.xml"]).find("Record")
    assert record is not None
    assert (record.get("action"), record.get("method")) == (
        "voice-goodbye.xml",
        "GET",
    )


@pytest.mark.parametrize(
    ("name", "messages"), [("sms.xml", 2), ("sms-en.xml", 1), ("sms-es.xml", 1)]
)
def test_the_sms_fallback_names_911_988_and_the_backup_number(
    documents: dict[str, str], name: str, messages: int
) -> None:
    bodies = [m.text or "" for m in parse(documents[name]).findall("Message")]
    assert len(bodies) == messages
    for body in bodies:
        assert "911" in body
        assert "988" in body
        assert BACKUP_NUMBER in body
        assert "{" not in body  # every placeholder filled


def test_the_command_writes_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"HELPLINE_VAR_DIR": str(tmp_path / "var"), "HELPLINE_BACKUP_NUMBER": BACKUP_NUMBER}
    result = CliRunner().invoke(main, ["fallback", "export", str(tmp_path / "out")], env=env)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["voice.xml", "voice-after.xml", "voice-goodbye.xml", "sms.xml", "sms-en.xml", "sms-es.xml"]
    )
    assert BACKUP_NUMBER not in result.output
    (tmp_path / "file").write_text("")
    refused = CliRunner().invoke(
        main, ["fallback", "export", str(tmp_path / "file" / "x")], env=env
    )
    assert refused.exit_code != 0
    assert "Traceback" not in refused.output


def test_with_the_service_down_a_caller_hears_the_crisis_numbers_and_reaches_the_backup_line(
    dead_emulator: EmulatorServer, static_host: str, tmp_path: Path
) -> None:
    network = dead_emulator.network
    settings = settings_for(dead_emulator, tmp_path, HELPLINE_PUBLIC_URL=network.config.line_url)
    client: Client = twilio_client(settings)
    plan = plan_for(find_number(client, LINE_NUMBER), wanted_settings(settings, static_host))
    assert apply_plan(client, plan) == []

    network.phone(BACKUP_NUMBER, talk(0.2))
    call = network.wait_for_call(network.call_line(CALLER).sid, timeout=20)
    spoken = " ".join(h["text"] for h in call.heard if h["kind"] == "say")
    assert "9 1 1" in spoken
    assert "9 8 8" in spoken
    fetched = [fetch.url.split("?")[0].split("#")[0] for fetch in call.fetches]
    assert fetched[0].endswith("/voice/incoming")  # the dead service, first
    assert fetched[1:3] == [static_host + "voice.xml", static_host + "voice-after.xml"]
    backup_legs = [c for c in network.calls.values() if c.to == BACKUP_NUMBER]
    assert backup_legs
    assert backup_legs[0].parent_call_sid == call.sid

    inbound = network.text_line(CALLER, "hello?")
    replies = [reply.body for reply in inbound.replies]
    assert len(replies) == 2
    assert all("988" in r and BACKUP_NUMBER in r for r in replies)
    assert inbound.delivery.url.startswith(static_host + "sms.xml")


def test_export_makes_the_directory(tmp_path: Path, content: Content) -> None:
    written = export(content, BACKUP_NUMBER, tmp_path / "a" / "b")
    assert sorted(p.name for p in written) == sorted(
        ["voice.xml", "voice-after.xml", "voice-goodbye.xml", "sms.xml", "sms-en.xml", "sms-es.xml"]
    )
    assert all(path.is_file() for path in written)
    for path in written:
        ET.fromstring(path.read_bytes())  # noqa: S314 - our own file


def test_the_command_refuses_the_development_placeholder_backup_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without HELPLINE_BACKUP_NUMBER, development fills in a number that reaches
    no one; exported, it is what every caller would be dialed to in an outage."""
    monkeypatch.chdir(tmp_path)
    env = {"HELPLINE_VAR_DIR": str(tmp_path / "var"), "HELPLINE_BACKUP_NUMBER": None}
    result = CliRunner().invoke(main, ["fallback", "export", str(tmp_path / "out")], env=env)
    assert result.exit_code == 1
    assert "HELPLINE_BACKUP_NUMBER is not set" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
