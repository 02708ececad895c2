"""Code that runs inside the sandbox, next to the candidate.

This package is mounted read-only into every sandbox as ``nmrunners`` and runs on
the sandbox's Python, so it imports only the standard library and pytest: never
``daemon``, ``policies`` or the rest of ``sandbox``.
"""
