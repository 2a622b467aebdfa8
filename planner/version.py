"""Which planner made a result: written on reports and stored with every swept replication."""

from __future__ import annotations

from importlib import metadata


def planner_version() -> str:
    """The installed planner's version ("dev" in a source tree that is not installed)."""
    try:
        return metadata.version("planner")
    except metadata.PackageNotFoundError:
        return "dev"
