"""Operators and what they may do: accounts (API tokens, passwords, login
throttling) and the audit log of every change. One core under the three
surfaces — JSON API, admin pages and the `helpline` CLI — so each surface
checks credentials and records changes the same way."""
