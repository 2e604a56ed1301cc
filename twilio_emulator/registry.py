"""The verbs the emulator plays, by tag. Add one by passing
`DEFAULT_VERBS | {"Conference": my_handler}` to `Interpreter`."""

from __future__ import annotations

from twilio_emulator import verbs
from twilio_emulator.dial import dial
from twilio_emulator.enqueue import enqueue, leave
from twilio_emulator.twiml import Interpreter, VerbHandler

DEFAULT_VERBS: dict[str, VerbHandler] = {
    "Say": verbs.say,
    "Play": verbs.play,
    "Pause": verbs.pause,
    "Gather": verbs.gather,
    "Redirect": verbs.redirect,
    "Hangup": verbs.hangup,
    "Reject": verbs.reject,
    "Record": verbs.record,
    "Dial": dial,
    "Enqueue": enqueue,
    "Leave": leave,
}


def default_interpreter() -> Interpreter:
    return Interpreter(DEFAULT_VERBS)
