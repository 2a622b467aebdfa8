"""The script Streamlit runs for every session, in a folder of its own (see ``dashboard.py``)."""
