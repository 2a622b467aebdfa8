"""The report a politician reads (``document``: HTML and PDF, bokmål and English), its charts
and maps, and the report of a swept scenario read from the results store (``from_store``)."""
