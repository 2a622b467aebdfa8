"""The script Streamlit runs for each session of ``planner dashboard``; it ships in the wheel.

It sits in a folder of its own because Streamlit treats a ``pages/`` folder next to the script
it runs as pages of the app (``planner/dashboard/pages/`` are not), and puts the script's folder
first on ``sys.path``. Everything lives in ``planner.dashboard``; ``serve.py`` starts the server.
"""

# Streamlit runs this as "__main__"; a worker process the dashboard starts ('spawn') imports
# it as "__mp_main__", as Streamlit's __main__ it then was, and must not draw the app
if __name__ == "__main__":
    from planner.dashboard.app import main

    main()
