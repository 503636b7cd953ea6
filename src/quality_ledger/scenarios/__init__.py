"""Worked scenarios: real campaigns kept as data, recorded only through commands.

A scenario is the library's reference case in executable form. Keeping it as
plain data, separate from the code that records it, lets demos show a
realistic ledger, lets tests compare what the ledger recorded with figures
computed independently from the data, and lets anyone vary the data to see
the figures move.
"""
