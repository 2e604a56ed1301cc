"""A local Twilio: the REST API (Messages, Calls), the phone network behind it
(delivery reports, virtual phones that answer and press keys), faults on
demand, and a record of everything — so the whole line runs offline.

    app = create_emulator(account_sid, auth_token, line_url, line_number)
    with EmulatorServer(app) as server:
        server.network.phone("+12025550123", press("4"), press("1"))
        call = server.network.call_line("+12025550123")
        server.network.wait_for_call(call.sid)
"""

from twilio_emulator.app import create_emulator, emulator_network
from twilio_emulator.config import EmulatorConfig
from twilio_emulator.faults import Fault
from twilio_emulator.interactive import InteractivePhone
from twilio_emulator.network import Network
from twilio_emulator.phones import (
    Answer,
    Script,
    give_up,
    hangup,
    press,
    say,
    script,
    silence,
    talk,
    wait,
)
from twilio_emulator.serve import EmulatorServer

__all__ = [
    "Answer",
    "EmulatorConfig",
    "EmulatorServer",
    "Fault",
    "InteractivePhone",
    "Network",
    "Script",
    "create_emulator",
    "emulator_network",
    "give_up",
    "hangup",
    "press",
    "say",
    "script",
    "silence",
    "talk",
    "wait",
]
