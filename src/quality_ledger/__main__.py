"""``python -m quality_ledger``: the ``quality-ledger`` command, where no script is on PATH."""

from quality_ledger.cli import main

raise SystemExit(main())
