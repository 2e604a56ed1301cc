"""Urgent work — a crisis text, an urgent callback, a voicemail — that a
person must take, and the ladder it climbs until someone does."""
