"""The marker of personal data on a model's field (what it means, and how the
ledger stores such a field: :mod:`quality_ledger.privacy`, docs/privacy.md)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Personal"]


@dataclass(frozen=True)
class Personal:
    """Marks a field as personal data of one data subject (see the module).

    ``kind`` is the kind of subject (``"user"``, ``"nominee"``): lowercase
    ASCII letters. ``by`` names the fields of the same model whose values,
    joined with ``@``, identify the subject. Without ``by``, the field is
    the data of the subject its aggregate was created for (a nominee's
    commendation: a press title naming her): it is sealed under a key of
    that aggregate's, which forgetting the subject destroys too. A marked
    field must be a plain ``str`` (or ``str | None``): its stored form is an
    encrypted envelope, which no stricter type would accept.
    """

    kind: str
    by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.kind.isascii() and self.kind.isalpha() and self.kind.islower()):
            msg = f"a data subject's kind is lowercase ASCII letters, not {self.kind!r}"
            raise ValueError(msg)
