"""The voice webhooks: one blueprint (common.py), its routes in four modules."""

from ivr.web.voice import callback_routes, counselor_routes, message_routes, routes
from ivr.web.voice.common import voice

__all__ = ["callback_routes", "counselor_routes", "message_routes", "routes", "voice"]
