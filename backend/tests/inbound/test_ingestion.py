"""Customer mail from a real Dovecot (IMAP and POP3) to interactions, through the running fetchers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import update

from postdesk.blacklist.models import BlacklistEntry, BlacklistReason, EntryKind
from postdesk.campaigns.models import Campaign
from postdesk.filters.models import ChannelFilter, FilterField, FilterMatch
from postdesk.inbound import recording
from postdesk.inbound import service as inbound_service
from postdesk.inbound.models import InboundMail, InboundMailbox, MailOutcome
from postdesk.interactions import intake
from postdesk.interactions.models import (
    Attachment,
    Direction,
    Interaction,
    InteractionState,
    Message,
    MessageKind,
    MessageStatus,
)
from postdesk.mail.compose import make_message_id
from postdesk.uow import unit_of_work
from tests.conftest import TEST_MODE, settings_from_env, start_worker, stop_process
from tests.inbound.conftest import (
    admin_headers,
    count,
    customer_mail,
    drop_database,
    eventually,
    isolated_env,
    rows,
    seed_tenant,
)


async def _interactions(runtime, tenant) -> list[Interaction]:
    return await rows(runtime, Interaction, Interaction.company_id == tenant.company_id,
                      order_by=Interaction.created_at)


async def _messages(runtime, tenant) -> list[Message]:
    return await rows(runtime, Message, Message.company_id == tenant.company_id, order_by=Message.created_at)


async def _wait_messages(runtime, tenant, n: int, timeout: float = 20) -> list[Message]:
    async def enough():
        found = await _messages(runtime, tenant)
        return found if len(found) >= n else None

    return await eventually(enough, timeout=timeout)


async def test_customer_mail_opens_a_queued_interaction_and_is_marked_seen_after_commit(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    async with stack_runtime.events.subscribe(str(tenant.company_id)) as events:
        html = '<p>See <img src="cid:logo@x"> and <img src="https://tracker.example/p.gif"></p><script>x()</script>'
        raw = customer_mail(html=html, attachment=("invoice.pdf", b"%PDF-1.4 fake"))
        await dovecot.deliver(tenant.mailbox, raw)
        [message] = await _wait_messages(stack_runtime, tenant, 1)
        event = await asyncio.wait_for(_next_of(events, "interaction.created"), 10)
    [interaction] = await _interactions(stack_runtime, tenant)
    assert event.type == "interaction.created" and event.data["id"] == str(interaction.id)
    assert event.data["state"] == "queued" and event.data["customer_email"] == "customer@example.org"
    assert interaction.state is InteractionState.queued and interaction.campaign_id == tenant.campaign_id
    assert interaction.queued_at is not None and interaction.subject == "Help please"
    assert message.direction is Direction.inbound and message.kind is MessageKind.customer
    assert message.from_address == "customer@example.org" and "not arrived" in message.text_body
    assert "<script" not in message.html_body and "tracker.example" not in message.html_body
    assert message.raw_key and await stack_runtime.blobs.get(message.raw_key) == raw.replace(b"\n", b"\r\n")
    [attachment] = await rows(stack_runtime, Attachment, Attachment.message_id == message.id)
    assert attachment.filename == "invoice.pdf"
    assert await stack_runtime.blobs.get(attachment.storage_key) == b"%PDF-1.4 fake"
    # Marked seen on the server only once it is committed.
    await eventually(lambda: _no_unseen(dovecot, tenant.mailbox))


async def _next_of(events, type_: str):
    while True:  # earlier events (the seeding's campaign.changed) may still be on their way
        event = await events.get()
        if event.type == type_:
            return event


async def _no_unseen(dovecot, mailbox) -> bool:
    return not await dovecot.unseen_uids(mailbox)


async def test_mail_already_read_by_another_client_is_still_ingested(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Read elsewhere"))
    await dovecot._doveadm("flags", "add", "-u", tenant.mailbox, "\\Seen", "mailbox", "INBOX", "ALL")
    assert not await dovecot.unseen_uids(tenant.mailbox)
    [message] = await _wait_messages(stack_runtime, tenant, 1)
    assert message.subject == "Read elsewhere"


async def test_uidvalidity_change_resyncs_without_duplicates_or_losses(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot, after_fetch="keep")
    for n in range(3):
        await dovecot.deliver(tenant.mailbox, customer_mail(subject=f"Before {n}"))
    await _wait_messages(stack_runtime, tenant, 3)
    await dovecot.set_uidvalidity(tenant.mailbox, "INBOX", 424242)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="After the change"))
    messages = await _wait_messages(stack_runtime, tenant, 4)

    async def resynced():
        [mailbox] = await rows(stack_runtime, InboundMailbox, InboundMailbox.email_server_id == tenant.server_id)
        return mailbox if mailbox.uidvalidity == 424242 and mailbox.last_uid >= 4 else None

    mailbox = await eventually(resynced)
    assert mailbox.resyncs == 1
    await asyncio.sleep(1)  # anything duplicated would show up by now
    messages = await _messages(stack_runtime, tenant)
    assert sorted(m.subject for m in messages) == ["After the change", "Before 0", "Before 1", "Before 2"]
    duplicates = await count(stack_runtime, InboundMail, InboundMail.email_server_id == tenant.server_id,
                             InboundMail.outcome == MailOutcome.duplicate)
    assert duplicates == 3


async def test_same_message_id_with_different_content_is_kept_twice(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id="<same@example.org>", body="first text"))
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id="<same@example.org>", body="second text"))
    messages = await _wait_messages(stack_runtime, tenant, 2)
    assert {m.text_body.strip() for m in messages} == {"first text", "second text"}


async def test_poison_message_is_quarantined_while_the_rest_arrive_and_can_be_reprocessed(stack_runtime, dovecot, api):
    tenant = await seed_tenant(stack_runtime, dovecot)
    # 400 nested multipart boundaries: over the parser's part limit on every attempt.
    poison = (b"From: bomb@example.org\r\nSubject: Poison\r\nMessage-ID: <poison@example.org>\r\n"
              b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
              + b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i, i + 1)
                         for i in range(400)))
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Before poison"))
    await dovecot.deliver(tenant.mailbox, poison)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="After poison"))
    messages = await _wait_messages(stack_runtime, tenant, 2)
    assert sorted(m.subject for m in messages) == ["After poison", "Before poison"]

    headers = await admin_headers(api, tenant)
    listed = await eventually(lambda: _quarantine(api, headers))
    [item] = listed["items"]
    assert item["message_id_header"] == "<poison@example.org>" and "parts" in item["error"]
    assert item["attempts"] == 3

    response = await api.post(f"/api/inbound/quarantine/{item['id']}/reprocess", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ingested" and response.json()["interaction_id"]
    [reprocessed] = [m for m in await _messages(stack_runtime, tenant) if m.subject == "Poison"]
    [original] = await rows(stack_runtime, Attachment, Attachment.message_id == reprocessed.id)
    assert original.filename == "original.eml" and original.content_type == "message/rfc822"
    assert (await _quarantine(api, headers)) is None
    again = await api.post(f"/api/inbound/quarantine/{item['id']}/reprocess", headers=headers)
    assert again.status_code == 409
    missing = await api.post(f"/api/inbound/quarantine/{uuid.uuid4()}/reprocess", headers=headers)
    assert missing.status_code == 404


async def test_reprocessing_a_message_that_crashes_the_parser_keeps_it_without_crashing_the_api(
        stack_runtime, dovecot, api):
    from postdesk.inbound.prepare import MailPreparer
    from tests.inbound.test_preparer import CRASH, prepare_or_die

    tenant = await seed_tenant(stack_runtime, dovecot)
    raw = customer_mail(subject="Crashes the parser").replace(b"\n\n", b"\n" + CRASH + b"\n\n", 1)
    key = await stack_runtime.blobs.put(raw)
    async with unit_of_work(stack_runtime) as session:
        mail = await inbound_service.quarantine(session, recording.MailSource(
            tenant.company_id, tenant.server_id, "INBOX", 1, 999), raw_key=key, raw=raw, error="crashed", attempts=3)
    crashing, stack_runtime.mail_preparer = stack_runtime.mail_preparer, MailPreparer(1, prepare=prepare_or_die)
    try:
        headers = await admin_headers(api, tenant)
        response = await api.post(f"/api/inbound/quarantine/{mail}/reprocess", headers=headers)
    finally:
        stack_runtime.mail_preparer.close()
        stack_runtime.mail_preparer = crashing
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ingested"
    [kept] = [m for m in await _messages(stack_runtime, tenant) if m.subject == "Crashes the parser"]
    assert "could not be displayed" in kept.text_body
    [original] = await rows(stack_runtime, Attachment, Attachment.message_id == kept.id)
    assert await stack_runtime.blobs.get(original.storage_key) == raw


async def _quarantine(api, headers):
    body = (await api.get("/api/inbound/quarantine", headers=headers)).json()
    return body if body["total"] else None


async def test_reply_to_our_message_joins_its_conversation_by_the_token_in_our_message_id(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    ours = await _conversation_with_our_reply(stack_runtime, tenant)
    reply = customer_mail(subject="Re: Your order (changed subject)", in_reply_to=ours.message_id_header,
                          references=["<unknown@example.org>", ours.message_id_header])
    await dovecot.deliver(tenant.mailbox, reply)
    messages = await _wait_messages(stack_runtime, tenant, 3)
    assert {m.interaction_id for m in messages} == {ours.interaction_id}
    [interaction] = await _interactions(stack_runtime, tenant)
    assert interaction.unread


async def test_our_own_mail_fetched_back_opens_no_interaction(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    ours = await _conversation_with_our_reply(stack_runtime, tenant)
    await dovecot.deliver(tenant.mailbox, customer_mail(sender="support@example.test", subject="Re: Your order",
                                                        message_id=ours.message_id_header))
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Unrelated"))
    await _wait_messages(stack_runtime, tenant, 3)
    ledger = await eventually(lambda: _ledger(stack_runtime, tenant, 2))
    assert sorted(row.outcome for row in ledger) == [MailOutcome.ingested, MailOutcome.own]
    assert len(await _interactions(stack_runtime, tenant)) == 2  # the seeded one and "Unrelated"


async def _ledger(runtime, tenant, n):
    found = await rows(runtime, InboundMail, InboundMail.email_server_id == tenant.server_id)
    return found if len(found) >= n else None


async def _conversation_with_our_reply(runtime, tenant) -> Message:
    """An interaction with the customer's first mail and an agent's reply (as the workspace stores it)."""
    async with unit_of_work(runtime) as session:
        interaction = Interaction(company_id=tenant.company_id, campaign_id=tenant.campaign_id,
                                  state=InteractionState.assigned, customer_email="customer@example.org",
                                  subject="Your order")
        session.add(interaction)
        await session.flush()
        first = Message(company_id=tenant.company_id, interaction_id=interaction.id, direction=Direction.inbound,
                        kind=MessageKind.customer, status=MessageStatus.received,
                        message_id_header="<first@example.org>", subject="Your order")
        ours = Message(company_id=tenant.company_id, interaction_id=interaction.id, direction=Direction.outbound,
                       kind=MessageKind.reply, status=MessageStatus.sent, subject="Re: Your order",
                       message_id_header=make_message_id("example.test", token=interaction.reference))
        session.add_all([first, ours])
    return ours


async def test_reply_to_a_customer_message_joins_its_conversation_by_references(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id="<question@example.org>", subject="Question"))
    await _wait_messages(stack_runtime, tenant, 1)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="More details", references=["<question@example.org>"]))
    messages = await _wait_messages(stack_runtime, tenant, 2)
    assert len({m.interaction_id for m in messages}) == 1
    assert len(await _interactions(stack_runtime, tenant)) == 1


async def test_subject_reference_threads_when_headers_are_missing(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="First"))
    [first] = await _wait_messages(stack_runtime, tenant, 1)
    [interaction] = await _interactions(stack_runtime, tenant)
    await dovecot.deliver(tenant.mailbox, customer_mail(subject=f"Re: First [#{interaction.reference}]"))
    messages = await _wait_messages(stack_runtime, tenant, 2)
    assert {m.interaction_id for m in messages} == {first.interaction_id}


async def test_follow_up_to_a_closed_interaction_reopens_it_ahead_of_new_mail(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id="<closed@example.org>", subject="Old"))
    [first] = await _wait_messages(stack_runtime, tenant, 1)
    async with unit_of_work(stack_runtime) as session:
        await session.execute(update(Interaction).where(Interaction.id == first.interaction_id)
                              .values(state=InteractionState.closed))
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Re: Old", in_reply_to="<closed@example.org>"))
    await _wait_messages(stack_runtime, tenant, 2)
    [interaction] = await _interactions(stack_runtime, tenant)
    assert interaction.state is InteractionState.queued and interaction.priority == intake.REOPENED_PRIORITY


async def test_follow_up_from_a_blacklisted_sender_is_kept_but_reopens_nothing(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    await dovecot.deliver(tenant.mailbox, customer_mail(message_id="<before@example.org>", subject="Order"))
    [first] = await _wait_messages(stack_runtime, tenant, 1)
    async with unit_of_work(stack_runtime) as session:
        await session.execute(update(Interaction).where(Interaction.id == first.interaction_id)
                              .values(state=InteractionState.closed))
        session.add(BlacklistEntry(company_id=tenant.company_id, kind=EntryKind.address, value="customer@example.org",
                                   reason=BlacklistReason.manual))
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Re: Order", in_reply_to="<before@example.org>"))
    follow_up = (await _wait_messages(stack_runtime, tenant, 2))[1]
    [interaction] = await _interactions(stack_runtime, tenant)
    assert follow_up.interaction_id == interaction.id  # visible in its conversation
    assert interaction.state is InteractionState.closed


async def test_full_queue_sends_new_interactions_to_the_backlog_and_admits_them_oldest_first(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot, max_in_queue=2)
    for n in range(4):
        await dovecot.deliver(tenant.mailbox, customer_mail(subject=f"Mail {n}"))
    await _wait_messages(stack_runtime, tenant, 4)
    interactions = await rows(stack_runtime, Interaction, Interaction.company_id == tenant.company_id,
                              order_by=Interaction.queued_at)
    assert [i.state for i in interactions] == [InteractionState.queued] * 2 + [InteractionState.backlog] * 2
    async with unit_of_work(stack_runtime) as session:
        assert await intake.admit_backlog(session, campaign_id=tenant.campaign_id) == 0
        await session.execute(update(Interaction).where(Interaction.id == interactions[0].id)
                              .values(state=InteractionState.assigned))
        assert await intake.admit_backlog(session, campaign_id=tenant.campaign_id) == 1
        assert await intake.queue_counts(session, campaign_id=tenant.campaign_id) == {"queued": 2, "backlog": 1}
    states = {i.subject: i.state for i in await _interactions(stack_runtime, tenant)}
    assert states["Mail 2"] is InteractionState.queued and states["Mail 3"] is InteractionState.backlog


async def test_blacklisted_sender_and_disabled_campaign_store_mail_without_queueing(stack_runtime, dovecot):
    tenant = await seed_tenant(stack_runtime, dovecot)
    async with unit_of_work(stack_runtime) as session:
        session.add(BlacklistEntry(company_id=tenant.company_id, kind=EntryKind.domain, value="spam.example",
                                   reason=BlacklistReason.manual))
    await dovecot.deliver(tenant.mailbox, customer_mail(sender="x@spam.example", subject="Spam"))
    [message] = await _wait_messages(stack_runtime, tenant, 1)
    [interaction] = await _interactions(stack_runtime, tenant)
    assert interaction.state is InteractionState.stored and interaction.state_reason == "blacklisted"
    assert message.interaction_id == interaction.id

    # A channel filter sends "Paused" mail to a disabled campaign: kept, not queued.
    async with unit_of_work(stack_runtime) as session:
        paused = Campaign(company_id=tenant.company_id, title="Paused", enabled=False,
                          email_server_id=tenant.server_id)
        session.add(paused)
        await session.flush()
        session.add(ChannelFilter(company_id=tenant.company_id, email_server_id=tenant.server_id, position=0,
                                  name="paused", field=FilterField.subject, match=FilterMatch.contains,
                                  value="Paused", campaign_id=paused.id, enabled=True))
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="Paused campaign mail"))
    await _wait_messages(stack_runtime, tenant, 2)
    stored = [i for i in await _interactions(stack_runtime, tenant) if i.subject == "Paused campaign mail"]
    assert [(i.state, i.state_reason, i.campaign_id) for i in stored] == [
        (InteractionState.stored, "campaign disabled", paused.id)]


async def test_pop3_mailbox_is_fetched_by_uidl_and_emptied_after_commit(stack_runtime, dovecot):
    address, password = dovecot.new_user()
    for n in range(3):
        await dovecot.deliver(address, customer_mail(subject=f"Pop {n}"))
    tenant = await seed_tenant(stack_runtime, dovecot, protocol="pop3", after_fetch="delete",
                               mailbox=(address, password))
    messages = await _wait_messages(stack_runtime, tenant, 3)
    assert sorted(m.subject for m in messages) == ["Pop 0", "Pop 1", "Pop 2"]

    async def emptied():
        return await dovecot.message_count(address) == 0

    await eventually(emptied)
    await dovecot.deliver(address, customer_mail(subject="Pop 3"))
    await _wait_messages(stack_runtime, tenant, 4)
    await asyncio.sleep(1.5)  # more poll rounds: still exactly once
    assert len(await _messages(stack_runtime, tenant)) == 4


async def test_mailbox_status_reports_connection_failures_and_recovers_after_a_fix(stack_runtime, dovecot, api):
    from postdesk.servers.models import EmailServer

    tenant = await seed_tenant(stack_runtime, dovecot)
    headers = await admin_headers(api, tenant)

    async def status(expected: str):
        listed = (await api.get("/api/inbound/mailboxes", headers=headers)).json()
        return listed[0] if listed and listed[0]["status"] == expected else None

    await eventually(lambda: status("ok"))
    good = (await rows(stack_runtime, EmailServer, EmailServer.id == tenant.server_id))[0].incoming_password_encrypted
    async with unit_of_work(stack_runtime) as session:
        await session.execute(update(EmailServer).where(EmailServer.id == tenant.server_id).values(
            incoming_password_encrypted=stack_runtime.secret_box.encrypt("wrong password")))
    async def outage():
        found = await status("error")
        return found if found and found["failing_since"] else None

    failing = await eventually(outage)
    assert "auth" in failing["last_error"].lower() and "alerted_at" in failing
    async with unit_of_work(stack_runtime) as session:
        await session.execute(update(EmailServer).where(EmailServer.id == tenant.server_id)
                              .values(incoming_password_encrypted=good))
    healthy = await eventually(lambda: status("ok"))
    assert healthy["consecutive_failures"] == 0
    await dovecot.deliver(tenant.mailbox, customer_mail(subject="After the fix"))
    await _wait_messages(stack_runtime, tenant, 1)
    other = await api.get("/api/inbound/mailboxes", headers={"Authorization": "Bearer nope"})
    assert other.status_code == 401


async def _mail_waiting_before_its_campaign(runtime, dovecot) -> str:
    """Mail delivered, then the campaign created: the subject of the message ingested within 15 s
    (the fetchers' reconcile interval is 300 s in these tests)."""
    address, password = dovecot.new_user()
    await dovecot.deliver(address, customer_mail(subject="Waiting since before the campaign"))
    tenant = await seed_tenant(runtime, dovecot, mailbox=(address, password))
    [message] = await _wait_messages(runtime, tenant, 1, timeout=15)
    return message.subject


@pytest.mark.skipif(TEST_MODE == "production", reason="there the fetchers run in the worker processes")
async def test_a_new_campaign_starts_fetching_at_once_not_at_the_next_reconcile(inbound_env, tmp_path, dovecot):
    from postdesk.migrate import upgrade_to_head
    from postdesk.runtime import Runtime

    settings = settings_from_env({**inbound_env, "POSTDESK_DATA_DIR": str(tmp_path),
                                  "POSTDESK_INBOUND_RECONCILE_SECONDS": "300"})
    await asyncio.to_thread(upgrade_to_head, settings)
    runtime = await Runtime.start(settings, role="api")
    try:
        await asyncio.sleep(0.5)  # the supervisor's first reconcile (nothing to fetch yet) is done
        assert await _mail_waiting_before_its_campaign(runtime, dovecot) == "Waiting since before the campaign"
    finally:
        await runtime.stop()


@pytest.mark.skipif(TEST_MODE != "production", reason="in embedded mode the API process runs the fetchers (above)")
async def test_a_new_campaign_reaches_the_worker_processes_fetchers_at_once(settings_env, tmp_path, dovecot):
    from postdesk.migrate import upgrade_to_head
    from postdesk.runtime import Runtime

    env, database = await asyncio.to_thread(isolated_env, settings_env, tmp_path)
    env["POSTDESK_INBOUND_RECONCILE_SECONDS"] = "300"
    settings = settings_from_env(env)
    await asyncio.to_thread(upgrade_to_head, settings)
    runtime = None
    with (tmp_path / "worker.log").open("wb") as log_file:
        worker = start_worker(env, log_file)
        try:
            runtime = await Runtime.start(settings, role="api")
            channel = f"{settings.redis_prefix}:inbound:configuration"

            async def worker_listens() -> bool:
                return dict(await runtime.redis.pubsub_numsub(channel)).get(channel.encode(), 0) > 0

            await eventually(worker_listens, timeout=30)
            assert await _mail_waiting_before_its_campaign(runtime, dovecot) == "Waiting since before the campaign"
        finally:
            if runtime is not None:
                await runtime.stop()
            stop_process(worker)
            await asyncio.to_thread(drop_database, database)
