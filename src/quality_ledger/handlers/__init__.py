"""Command handlers: load what a command touches, authorise, decide.

Each handler loads the aggregates a command concerns, asks the policy, checks
rules that span aggregates against their current state, and calls the
aggregate's command method. It returns the aggregates that changed; the
ledger saves them together, in one atomic write, or not at all.

``handle`` dispatches on the command's class; each aggregate's module below
registers one handler per command when it is imported (here, so importing
the package is enough).
"""

from quality_ledger.handlers.activity import led
from quality_ledger.handlers.campaign import organised
from quality_ledger.handlers.commendation import awarded
from quality_ledger.handlers.context import Aggregates, Changes, CommandContext, handle
from quality_ledger.handlers.inspection import inspected, lodged_by
from quality_ledger.renamed import old_names

__all__ = ["Aggregates", "Changes", "CommandContext", "awarded", "handle", "inspected", "led", "lodged_by", "organised"]

# Earlier names of these classes: they still resolve, with a DeprecationWarning (quality_ledger.renamed).
__getattr__ = old_names(__name__, {"Work": "Changes", "Context": "CommandContext"})
