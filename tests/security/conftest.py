"""Fixtures of the broker security tests (the helpers live in `secure_broker`)."""

from secure_broker import office

__all__ = ["office"]
