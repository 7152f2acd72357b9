"""The one way a use case says no.

A `Refusal` is an expected outcome, not a fault: the caller asked for something the rules do not
allow (wrong role, a code already used, a repair asked for too early). Its message is one Chinese
sentence written for the person who asked; every channel shows it as it is — the chat's error
handler replies with it, the CLI prints it and exits with `EXIT_REFUSED`, the API returns it as a
problem detail — so no use case needs to know which channel called it.
"""

from __future__ import annotations

from typing import Any

EXIT_REFUSED = 2


class Refusal(Exception):
    """A use case declined; `str(exc)` is the Chinese reason for the user.

    `code` names the kind of refusal where a channel words it its own way (a chat points to
    `/bind`, an API answers 403); most refusals need none.
    """

    def __init__(self, reason: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.details = details or {}

    @property
    def reason(self) -> str:
        return str(self)


NOT_A_COLLECTOR = "not_a_collector"
# Kinds of refusal that a channel with status codes (the HTTP port) tells apart.
FORBIDDEN = "forbidden"  # the caller's role or key may not do this
NOT_FOUND = "not_found"  # no such subject, check or document for this caller
INVALID = "invalid"  # a value outside what the rule allows
TOO_LARGE = "too_large"  # more items than one request may carry
CONFLICT = "conflict"  # contradicts what is already recorded
