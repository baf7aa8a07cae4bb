"""Preparing fetched mail in worker processes: a message that kills its worker process costs only
itself (native parser code can crash), and nothing of a batch comes back twice or out of place."""

from __future__ import annotations

import os
from pathlib import Path

from postdesk.inbound.prepare import MailPreparer, Prepared, PreparerCrashed, prepare_batch
from postdesk.storage import LocalBlobStore
from tests.inbound.conftest import customer_mail

CRASH = b"X-Crash-The-Worker: yes"


def prepare_or_die(blobs, batch, **options):
    """`prepare_batch`, except that a marked message kills the process the way a native crash would."""
    if any(CRASH in raw for raw, _ in batch):
        os._exit(70)
    return prepare_batch(blobs, batch, **options)


def _mail(subject: str, *, crash: bool = False) -> bytes:
    raw = customer_mail(subject=subject)
    return raw.replace(b"\n\n", b"\n" + CRASH + b"\n\n", 1) if crash else raw


async def test_a_message_that_kills_the_worker_costs_only_itself(tmp_path: Path) -> None:
    preparer = MailPreparer(1, prepare=prepare_or_die)
    blobs = LocalBlobStore(tmp_path)
    try:
        original = _mail("first")
        results = await preparer.prepare_many(blobs, [(original, None), (_mail("poison", crash=True), None),
                                                      (_mail("last"), None)])
        first, poison, last = results
        assert isinstance(first, Prepared) and first.parsed.subject == "first"
        assert isinstance(poison, PreparerCrashed)
        assert isinstance(last, Prepared) and last.parsed.subject == "last"
        assert await blobs.get(first.raw_key) == original

        # The pool was replaced: the next batch is prepared in a worker process again.
        [again] = await preparer.prepare_many(blobs, [(_mail("after"), None)])
        assert isinstance(again, Prepared) and again.parsed.subject == "after"
    finally:
        preparer.close()


async def test_worker_processes_return_no_attachment_bytes(tmp_path: Path) -> None:
    preparer = MailPreparer(1)
    blobs = LocalBlobStore(tmp_path)
    try:
        raw = customer_mail(subject="with a file", html='<p>Logo <img src="cid:logo@x"></p>',
                            attachment=("invoice.pdf", b"%PDF-1.4 invoice"))
        [prepared] = await preparer.prepare_many(blobs, [(raw, None)])
        assert isinstance(prepared, Prepared)
        assert prepared.parsed.attachments == ()
        [stored] = prepared.attachments
        assert (stored.filename, stored.content_type, stored.size) == ("invoice.pdf", "application/pdf", 16)
        assert await blobs.get(stored.key) == b"%PDF-1.4 invoice"
        assert "<script" not in prepared.html and "Logo" in prepared.html
    finally:
        preparer.close()
