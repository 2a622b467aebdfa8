"""Write the golden files anew (tests/golden/oslo_akershus.json and oslo_akershus_short.json):
run only when a change of figures is deliberate.

    python tests/golden/regenerate.py

Then commit the file with a message that says which figures moved, by how much, and why.
"""

from __future__ import annotations

import json

from figures import GOLDEN, figures  # run as a script, this folder is on the path

if __name__ == "__main__":
    for run, path in GOLDEN.items():
        path.write_text(json.dumps(figures(run), indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"wrote {path}")
