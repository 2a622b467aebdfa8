"""Sizing, placing and rostering a fleet: hourly staffing and the cheapest roster
(``staffing``), where the units stand (``coverage``), and the loop that checks every proposal in
the simulation (``loop``)."""
