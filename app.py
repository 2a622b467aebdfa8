"""The dashboard's script for ``streamlit run app.py`` from the project folder (benchmarks/).

To serve the dashboard, use ``planner dashboard``: it runs the packaged copy of this script,
``planner/dashboard/entry/dashboard.py``, with fixed settings, the Host check and the framing
headers (``planner/dashboard/serve.py``), none of which ``streamlit run`` gives.
"""

from planner.dashboard.app import main

main()
