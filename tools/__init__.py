"""Development tools: installing the locked packages, and checking the lock."""
