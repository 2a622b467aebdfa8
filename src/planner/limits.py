"""Bounds the scenario schema and the shells share, written once and with nothing heavy to
import (a command's options are declared before pydantic is)."""

from __future__ import annotations

MAX_REPLICATIONS = 100_000
"""Most replications one run may ask for (``run.replications``; ``--replications``)."""
MAX_SEED = 2**63 - 1
"""Largest seed (``run.seed``; ``--seed``): numpy's SeedSequence takes any, SQL's BIGINT this."""
