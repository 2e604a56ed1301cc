"""Faults, each played through the local Twilio emulator (issue #7; docs/reliability.md)."""
