"""The dashboard's script for ``streamlit run app.py`` from the project folder (benchmarks/).

To serve the dashboard, use ``planner dashboard``: it runs the packaged copy of this script,
``planner/dashboard/entry/dashboard.py``, with fixed settings, the Host check and the framing
headers (``planner/dashboard/serve.py``), none of which ``streamlit run`` gives.
"""

# Streamlit runs this as "__main__"; a worker process the dashboard starts ('spawn') imports
# it as "__mp_main__", as Streamlit's __main__ it then was, and must not draw the app
if __name__ == "__main__":
    from planner.dashboard.app import main

    main()
