"""A health trust's own call logs: the schema of one row per call, the mapping from a source's
columns and codes to it, the check that accepts or rejects every row with a named reason, and
a log made by the model (``synth``) to prove the round trip.

Personal data stays on this machine: nothing here sends anything anywhere, a column that looks
like Norwegian national identity numbers is refused, and a person is only ever a pseudonymous
key (see docs/call-log.md).
"""
