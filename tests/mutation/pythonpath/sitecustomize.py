"""Imported at start-up by every Python process that ``tests/mutation/run.py`` starts.

run.py puts this folder (and ``mutants/``) on ``PYTHONPATH``, so a test that starts
``python -c "from planner.cli import main; main()"`` in some other folder imports the mutated
copy rather than the editable install in the checkout. During mutmut's stats phase such a child
would try to record which functions it called, and fail to find mutmut's configuration outside
``mutants/``; those records would be lost anyway, so the child just runs the unmutated code.
"""

import os

if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    os.environ["MUTANT_UNDER_TEST"] = ""
