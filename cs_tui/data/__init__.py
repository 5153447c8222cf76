"""The data layer: the only code that opens sessions or writes SQL.

Importing the package itself costs nothing: the plain views (`views.py`) and error codes
(`errors.py`) that screens and commands share are read without SQLAlchemy, so the workstation
can draw its first rows (`first_look.py`) before SQLAlchemy is loaded. The tables are built by
`tables.py`, which every module that writes SQL imports.
"""
