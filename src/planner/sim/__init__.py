"""The simulation: the world a scenario runs in (``world``), the call stream (``demand``), the
discrete-event engine (``engine``), its event log (``events``, ``event_log``), the KPIs (``kpis``),
replications (``run``), paired comparisons (``compare``) and a run's machine budget (``budget``)."""
