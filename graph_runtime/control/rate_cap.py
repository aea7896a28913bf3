"""A token bucket for control inputs that must not flood the show (agent calls)."""
from __future__ import annotations

import time

RATE, BURST = 30.0, 60.0  # calls per second per connection


class RateCap:
    """`take()` is False when calls come faster than `rate` a second (bursts up to `burst`)."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = float(rate), float(burst)
        self.level, self.at = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1.0:
            return False
        self.level -= 1.0
        return True
