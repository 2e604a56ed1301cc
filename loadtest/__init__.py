"""`make loadtest`: the whole line under a bounded load, on loopback only.

A private Redis, `helpline serve` (gunicorn), several `helpline worker`
processes and the Twilio emulator are started on free ports; hundreds of
virtual callers walk the menu, dozens wait for a few virtual counselors, and
a burst of inbound texts arrives — all at once. Then the run is measured from
what the emulator saw: errors, lost or duplicated texts, callers held past
their deadline, webhook latency, time to ring and to bridge. Everything
started is stopped at the end. `python -m loadtest --help` for the knobs.
"""
