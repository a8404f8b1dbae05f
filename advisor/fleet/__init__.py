"""Measuring on the cards a team already owns, across its Ray cluster (docs/fleet.md).

Ray is an optional extra (``pip install '.[fleet]'``) and is imported here only, when a fleet command runs.
The tool connects only to the address it is given, starts no dashboard and sends no usage statistics.
"""
