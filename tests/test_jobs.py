"""The one list of jobs and webhook paths (ivr/jobs.py) agrees with what
runs them: each job name is a function in workers/, and each path a worker
gives Twilio is a route of the app, reaching the view meant for it."""

from __future__ import annotations

import importlib

import pytest
from flask import Flask

from ivr import jobs


@pytest.mark.parametrize("name", jobs.JOB_NAMES)
def test_each_job_name_is_a_worker_function(name: str) -> None:
    module, _, function = name.rpartition(".")
    assert module.startswith("workers.")
    assert callable(getattr(importlib.import_module(module), function))


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        (jobs.whisper_path("d1", "l1"), "voice.whisper"),
        (jobs.leg_status_path("d1", "l1"), "voice.leg_status"),
        (jobs.whisper_over_path("d1", "l1"), "voice.whisper_over"),
        (jobs.after_hold_path("d1"), "voice.after_hold"),
        (jobs.callback_whisper_path("CB-ABCDEF"), "voice.callback_whisper"),
        (jobs.message_hear_path("VM-ABCDEF", "alex"), "voice.message_offer"),
        (jobs.SMS_STATUS_PATH, "sms.status"),
    ],
)
def test_each_webhook_path_a_worker_gives_twilio_is_a_route(
    app: Flask, path: str, endpoint: str
) -> None:
    matched, _ = app.url_map.bind("localhost").match(path, method="POST")
    assert matched == endpoint
