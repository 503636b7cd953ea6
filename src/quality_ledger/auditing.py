"""The ledger's audit part: the hash chain, checkpoints, replay certificates,
and the log itself in pages. The work is :mod:`quality_ledger.audit`'s; this
part checks the caller's input and hands it the event log.
"""

from __future__ import annotations

from collections.abc import Iterator

from quality_ledger.audit import replay
from quality_ledger.audit import verify as audit_verify
from quality_ledger.audit.chain import ChainedRecorder
from quality_ledger.audit.replay import ReplayCertificate
from quality_ledger.audit.verify import Checkpoint, VerifyReport
from quality_ledger.bounds import PAGE, POSITION, START
from quality_ledger.domain.base import DomainEvent
from quality_ledger.parts import Part, guarded
from quality_ledger.persistence import is_store_error
from quality_ledger.projections.runner import Progress


class Auditing(Part):
    """Verify the log, pin it with checkpoints, certify the views' replay."""

    @property
    def chain(self) -> ChainedRecorder:
        """The store's recorder seen as the keeper of the hash chain."""
        return self._log.chain

    @guarded
    def verify(
        self,
        *,
        against: Checkpoint | None = None,
        since: Checkpoint | None = None,
        public_key: str | None = None,
        certificate: ReplayCertificate | None = None,
        progress: Progress | None = None,
    ) -> VerifyReport:
        """Recompute the hash chain over the whole log and report the first break.

        ``against`` a checkpoint also catches a cut tail or rewritten history
        (and a forged checkpoint: give the trusted ``public_key`` for signed
        ones); ``since`` a trusted checkpoint checks only the events appended
        after it, so a daily audit costs that day's events (one or the
        other, not both); a ``certificate`` is compared with a fresh replay
        of the views.
        """
        report = audit_verify.verify(self.chain, against=against, since=since, public_key=public_key, progress=progress)
        if certificate is not None:
            same = self.replay_certificate(certificate.position) == certificate
            report = report.model_copy(update={"certificate_ok": same, "ok": report.ok and same})
        return report

    @guarded
    def checkpoint(self, private_key_pem: bytes | None = None) -> Checkpoint:
        """Size and head link of the log now; signed with an Ed25519 key if given."""
        point = audit_verify.checkpoint(self.chain)
        return point.signed(private_key_pem) if private_key_pem else point

    @guarded
    def replay_certificate(self, position: int | None = None) -> ReplayCertificate:
        """Digest of every view after replaying the log from zero up to ``position``."""
        if position is not None:
            POSITION.check("position", position)
        return replay.certificate(self._log, self.position() if position is None else position)

    @guarded
    def position(self) -> int:
        """The position of the last stored event (0 for an empty log)."""
        return self._log.position()

    def events(self, start: int = 1, page: int = 500) -> Iterator[tuple[int, DomainEvent]]:
        """Every stored event in commit order, with its position, read in pages
        (``start`` from 1, ``page`` from 1 to 10,000, checked at once)."""
        START.check("start", start)
        PAGE.check("page", page)
        return self._guarded_events(start, page)

    def _guarded_events(self, start: int, page: int) -> Iterator[tuple[int, DomainEvent]]:
        try:
            yield from self._log.events(start, page)
        except Exception as e:
            if is_store_error(e):
                raise self.location.failure(e) from e
            raise
