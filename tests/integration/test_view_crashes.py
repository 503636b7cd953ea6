"""Crash safety of the views: a failure at any step, or kill -9, never makes
the views apply an event twice or skip one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from quality_ledger import Ledger
from quality_ledger import commands as c
from tests.conftest import QTS, plan_campaign

STEPS = ("before-write", "after-write", "before-commit", "after-commit")


class Crash(Exception):
    pass


def record_progress(ledger: Ledger, reports: int) -> None:
    """A campaign and an activity with many progress reports: ``achieved``
    counts every report, so a twice-applied or skipped event shows."""
    campaign_id = plan_campaign(ledger)
    activity = ledger.execute(
        c.PlanActivity(
            campaign_id=campaign_id,
            title="experts into enterprises",
            lead_department="XA-QTS",
            focus_area="everyone-takes-part",
            targets={"enterprises": 88},
        ),
        QTS,
    ).aggregate_id
    ledger.execute(c.StartActivity(activity_id=activity, started_on=date(2017, 9, 2)), QTS)
    for _ in range(reports):
        ledger.execute(
            c.ReportProgress(activity_id=activity, metric="enterprises", amount=1, reported_on=date(2017, 9, 3)), QTS
        )


@pytest.mark.parametrize("step", STEPS)
def test_after_a_failure_at_any_step_a_restart_equals_a_full_rebuild(tmp_path: Path, step: str) -> None:
    # given a ledger file whose log is ahead of its views by several batches
    url = f"sqlite:///{tmp_path}/xian.db"
    with Ledger.open(url, read_your_writes=False, batch_size=7) as ledger:
        record_progress(ledger, reports=30)
        head = ledger.position()
        batches_seen = []

        def fail_on_second_batch(name: str) -> None:
            if name == step:
                batches_seen.append(name)
                if len(batches_seen) == 2:
                    raise Crash(name)

        ledger.views.fault = fail_on_second_batch
        # when the runner fails at that step of its second batch
        with pytest.raises(Crash):
            ledger.views.catch_up()
        stopped_at = ledger.views.position()
    # then the tracking position is at a batch boundary: one batch, or two if the failure came after commit
    assert stopped_at == (14 if step == "after-commit" else 7)
    # and a restarted runner brings the views to exactly a full rebuild
    with Ledger.open(url, read_your_writes=False, batch_size=7) as restarted:
        restarted.views.catch_up()
        assert restarted.views.position() == head
        assert restarted.verify_views().ok
        (target,) = restarted.campaign_status(restarted.audit_trail().entries[0].aggregate_id).targets
        assert target.achieved == 30


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from quality_ledger import Ledger
    batches = []
    def kill_mid_batch(step):
        if step == "after-write":
            batches.append(step)
            if len(batches) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
    with Ledger.open(sys.argv[1], read_your_writes=False, batch_size=5) as ledger:
        ledger.views.fault = kill_mid_batch
        ledger.views.catch_up()
    """
)


def test_kill_9_mid_batch_leaves_views_that_a_restart_completes_exactly(tmp_path: Path) -> None:
    # given a ledger file with views behind the log
    url = f"sqlite:///{tmp_path}/xian.db"
    with Ledger.open(url, read_your_writes=False) as ledger:
        record_progress(ledger, reports=40)
        head = ledger.position()
    # when a process catching up is killed with SIGKILL after writing its third batch's rows, before commit
    child = subprocess.run([sys.executable, "-c", CHILD, url], check=False, timeout=120, env={**os.environ})
    assert child.returncode == -signal.SIGKILL
    # then the uncommitted batch is gone, and a restart ends equal to a full rebuild
    with Ledger.open(url, read_your_writes=False) as restarted:
        assert restarted.views.position() == 10
        restarted.views.catch_up()
        assert restarted.views.position() == head
        assert restarted.verify_views().ok
