"""The roster in Redis and back out as YAML: saved whole, read whole, and an
export imports as the very same roster."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from ivr.roster import (
    Counselor,
    RosterError,
    RosterStore,
    dump_yaml,
    load_roster_file,
    parse_roster,
)
from ivr.roster.store import ROSTER_KEY
from tests.roster.conftest import EXAMPLE, roster_from

EVERY_FEATURE = """
timezone: America/New_York
counselors:
  - {id: a, name: "Ana: the first", phone: "+12025550111", languages: [en, es], priority: 0}
  - {id: b, name: "no", phone: "+34915550112", languages: ["no", es], active: false}
shifts:
  - {counselor: a, days: [sun, mon], start: "22:00", end: "06:00", timezone: America/Phoenix}
  - {counselor: b, days: [sat], start: "00:00", end: "24:00", valid_from: "2026-01-01"}
  - {counselor: b, days: [fri], start: "07:15", end: "08:45", valid_until: "2027-01-31"}
overrides:
  - counselor: a
    start: "2026-12-24T18:00:30"
    end: "2026-12-25T08:00"
    timezone: Europe/Madrid
    replaces: [b]
    note: "Nochebuena # not a comment"
coverage: {minimum: 2, languages: {en: 1, "no": 1}}
"""


@pytest.mark.parametrize("text", [EXAMPLE.read_text(encoding="utf-8"), EVERY_FEATURE])
def test_an_export_imports_as_the_same_roster(text: str, tmp_path: Path) -> None:
    roster = roster_from(text, tmp_path)
    exported = tmp_path / "exported.yaml"
    exported.write_text(dump_yaml(roster, header="exported\nfor a test"), encoding="utf-8")
    again = load_roster_file(exported)
    assert again == roster
    assert dump_yaml(again) == dump_yaml(roster)


def test_a_saved_roster_loads_equal_with_its_version(redis_client: redis.Redis) -> None:
    roster = load_roster_file(EXAMPLE)
    store = RosterStore(redis_client)
    assert store.load() is None
    assert store.version() == 0
    assert store.save(roster, source="examples/roster.yaml") == 1
    stored = RosterStore(redis_client).load_stored()
    assert stored is not None
    assert stored.roster == roster
    assert (stored.version, stored.source) == (1, "examples/roster.yaml")
    assert store.save(roster) == 2


def test_a_store_parses_each_version_once(redis_client: redis.Redis, tmp_path: Path) -> None:
    store, other = RosterStore(redis_client), RosterStore(redis_client)
    store.save(load_roster_file(EXAMPLE))
    first = other.load()
    assert other.load() is first  # unchanged: the parsed roster (and its index) is kept
    replacement = roster_from("timezone: UTC\ncounselors: []\n", tmp_path)
    store.save(replacement)
    assert other.load() == replacement


def test_a_new_store_reuses_the_roster_this_process_already_parsed(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    # A job that opens its own store (an alert) must not parse a big roster again.
    RosterStore(redis_client).save(load_roster_file(EXAMPLE))
    first = RosterStore(redis_client).load()
    assert RosterStore(redis_client).load() is first
    changed = roster_from("timezone: UTC\ncounselors: []\n", tmp_path)
    RosterStore(redis_client).save(changed)
    assert RosterStore(redis_client).load() == changed


def test_a_reader_sees_one_roster_or_the_other_never_a_mix(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    old = load_roster_file(EXAMPLE)
    new = roster_from("timezone: Europe/Madrid\ncounselors: []\n", tmp_path)
    RosterStore(redis_client).save(old)
    seen: list[object] = []
    done = threading.Event()

    def read() -> None:
        reader = RosterStore(redis.Redis(connection_pool=redis_client.connection_pool))
        while not done.is_set():
            seen.append(reader.load())

    thread = threading.Thread(target=read)
    thread.start()
    writer = RosterStore(redis_client)
    for n in range(60):
        writer.save(new if n % 2 else old)
    done.set()
    thread.join()
    assert seen
    assert all(r in (old, new) for r in seen)


def test_a_stored_roster_that_no_longer_validates_is_an_error(redis_client: redis.Redis) -> None:
    store = RosterStore(redis_client)
    store.save(load_roster_file(EXAMPLE))
    redis_client.hset(ROSTER_KEY, "document", '{"timezone": "Nowhere/Atlantis", "counselors": []}')
    redis_client.hincrby(ROSTER_KEY, "version", 1)
    with pytest.raises(RosterError, match="unknown time zone"):
        store.load()


def test_plain_data_is_checked_like_a_file() -> None:
    with pytest.raises(RosterError) as refused:
        parse_roster({"timezone": "UTC", "counselors": [{"id": "x"}]}, "api")
    assert [str(p) for p in refused.value.problems] == [
        "api:1: counselor 'x': missing 'languages'",
        "api:1: counselor 'x': missing 'name'",
        "api:1: counselor 'x': missing 'phone'",
    ]


def test_save_if_writes_only_over_the_version_read(redis_client: redis.Redis) -> None:
    store = RosterStore(redis_client)
    roster = load_roster_file(EXAMPLE)
    assert store.save_if(roster, 1) is None  # nothing saved yet: version 0
    assert store.load() is None
    assert store.save_if(roster, 0, source="first") == 1
    assert store.save_if(roster, 0) is None
    assert store.save_if(roster, 1, source="second") == 2
    stored = store.load_stored()
    assert stored is not None
    assert (stored.version, stored.source) == (2, "second")


def test_writers_using_save_if_lose_no_change(redis_client: redis.Redis) -> None:
    """Each writer adds counselors by read, change, save_if, reading again
    whenever another saved first: every counselor must be there at the end."""
    RosterStore(redis_client).save(parse_roster({"timezone": "UTC", "counselors": []}, "t"))

    def add(writer: int) -> None:
        store = RosterStore(redis.Redis(connection_pool=redis_client.connection_pool))
        for n in range(8):
            while True:
                stored = store.load_stored()
                assert stored is not None
                counselor = Counselor(f"w{writer}n{n}", "W", f"+1202555{writer}{n:03d}", ("en",))
                new = replace(stored.roster, counselors=(*stored.roster.counselors, counselor))
                if store.save_if(new, stored.version) is not None:
                    break

    threads = [threading.Thread(target=add, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    roster = RosterStore(redis_client).load()
    assert roster is not None
    assert len(roster.counselors) == 32
