"""``python -m quality_ledger``: the ``quality-ledger`` command, where no script is on PATH."""

from quality_ledger.cli import main

if __name__ == "__main__":  # imported (a tool walking the package), it runs nothing
    raise SystemExit(main())
