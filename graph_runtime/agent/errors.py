"""A refused agent call: a code an agent can branch on and one line for people."""
from __future__ import annotations

CODES = ("bad_argument", "not_found", "refused", "frozen", "busy", "rate_limited",
         "too_large", "no_track", "no_engine", "unavailable", "internal")


class AgentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code = code if code in CODES else "refused"
        self.message = str(message)[:500]
        super().__init__(f"{self.code}: {self.message}")

    def to_json(self) -> dict:
        return {"error": self.code, "message": self.message}

    @classmethod
    def from_json(cls, doc: dict) -> AgentError:
        return cls(str(doc.get("error", "refused")), str(doc.get("message", "")))
