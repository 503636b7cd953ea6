"""Plausible commands: whole campaign scenarios, each lifecycle in order.

They follow the business lifecycle with consistent dates, so most steps
succeed and the deep states (re-tests, rectifications, closing) are reached;
with ``noise`` some steps get the wrong actor or are repeated, and are refused.
Aggregate ids derive from natural keys, so a scenario knows every id before
anything runs and can be replayed on as many ledgers as a test likes.

One module per aggregate (``campaign`` holds the whole scenario), as the moves
are, and ``base`` what they share; every name is importable from here.
"""

from quality_ledger.testing.lifecycles.activity import activity_lifecycles
from quality_ledger.testing.lifecycles.base import Step, Strategy
from quality_ledger.testing.lifecycles.campaign import Scenario, plan_campaigns, scenarios
from quality_ledger.testing.lifecycles.inspection import inspection_lifecycles

__all__ = [
    "Scenario",
    "Step",
    "Strategy",
    "activity_lifecycles",
    "inspection_lifecycles",
    "plan_campaigns",
    "scenarios",
]
