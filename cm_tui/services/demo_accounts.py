"""The demo sign-in names, apart from the demo generator.

`cm-tui --demo` needs only the username to sign in; importing it from here keeps
the generator's large module (name pools, note templates) off the start path.
"""

from __future__ import annotations

DEMO_PASSWORD = "demo"
DEMO_USERNAME = "demo"  # the care manager that `cm-tui --demo` signs in as
DEMO_DISPLAY_NAME = "Maria Alvarez, RN"
