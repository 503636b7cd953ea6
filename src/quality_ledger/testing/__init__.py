"""Test support for services built on quality_ledger: hypothesis strategies.

Opt-in: importing this package needs ``hypothesis`` (a test dependency);
nothing else in quality_ledger imports it, so the library itself runs without.
"""

from quality_ledger.testing import strategies
from quality_ledger.testing.strategies import Scenario, Step

__all__ = ["Scenario", "Step", "strategies"]
