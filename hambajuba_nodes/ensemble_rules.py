"""The ensemble's constants, shared by the offline table (ensemble.py) and the
live stepper (ensemble_live.py); ensemble.py says what each one does."""
from __future__ import annotations

RANKS = {"R1": 1.0, "R2": 0.65, "R3": 0.40, "R4": 0.25, "auto": 0.05}
RANK_CHOICES = ("off",) + tuple(RANKS)
NOVELTY_MAX = 0.30
COUPLING_MAX = 0.50
LOCK_THRESHOLD = 0.5
CALL_GAIN, RESPONSE_CUT = 0.30, 0.40  # x1.3 .. x0.6
GATE_RELEASE_S = 0.3
NOVELTY_RISE_FULL = 2.0  # novelty rising 2 units/s earns the whole boost
NOVELTY_HOLD_S = 0.5
