"""The planners' dashboard: ``streamlit run app.py`` from the project folder.

Everything lives in ``planner.dashboard``; this file only starts it, so that the same app can be
tested with Streamlit's AppTest and served to a browser.
"""

from planner.dashboard.app import main

main()
