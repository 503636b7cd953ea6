"""Worked scenarios: real campaigns kept as data, recorded only through commands.

A case is a TOML file validated by the models in ``specs``; ``planner`` turns
it into commands, ``loader`` reads files and records cases, and ``expected``
works out from the data alone what the ledger should then show. Keeping the
data apart from the code that records it lets demos show a realistic ledger,
lets tests compare the ledger's figures with independent ones, and lets anyone
vary the data (or write a case of their own, docs/cases.md) and see the
figures move. ``xian2017`` names the reference case.
"""
