// Incoming mail: each fetched mailbox's health, and the quarantine of messages that could not be taken in.
import { Badge, Button, Group, Stack, Table, Text, Title, Tooltip } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, ErrorAlert, ListTable, PagedTable, PageHeader } from "../../components/ui";
import { formatDateTime } from "../../lib/format";
import { must } from "../../lib/http";
import { useEmailServers } from "../servers/ServersPage";

type Mailbox = Schemas["MailboxPublic"];
type MailboxStatus = Schemas["MailboxStatus"];
type QuarantinedMail = Schemas["QuarantinedMailPublic"];

const STATUS: Record<MailboxStatus, { label: string; color: string }> = {
  ok: { label: "Receiving", color: "teal" },
  error: { label: "Failing", color: "red" },
  starting: { label: "Starting", color: "blue" },
  stopped: { label: "Stopped", color: "gray" },
};
const PAGE_SIZE = 25;
// No event announces a mailbox's health; a gentle poll keeps the list honest.
const MAILBOX_REFETCH_MS = 30_000;

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function IncomingMailPage() {
  const servers = useEmailServers();
  const serverName = (id: string) => servers.data?.find((s) => s.id === id)?.name ?? "Unknown server";
  return (
    <Stack gap="xl">
      <PageHeader title="Incoming mail" description="Whether each mailbox is being fetched, and the messages Postdesk could not take in." />
      <section aria-labelledby="mailboxes-heading">
        <Title order={3} id="mailboxes-heading" mb="sm">
          Mailboxes
        </Title>
        <Mailboxes serverName={serverName} />
      </section>
      <section aria-labelledby="quarantine-heading">
        <Title order={3} id="quarantine-heading" mb={4}>
          Quarantine
        </Title>
        <Text size="sm" c="dimmed" mb="sm">
          Messages that failed to be read or stored several times. The originals are kept: reprocess one after a fix, or to
          take it in with its headers and the original attached.
        </Text>
        <Quarantine serverName={serverName} />
      </section>
    </Stack>
  );
}

function Mailboxes({ serverName }: { serverName: (id: string) => string }) {
  const mailboxes = useQuery({
    queryKey: ["inbound", "mailboxes"],
    queryFn: () => must(api.GET("/api/inbound/mailboxes")),
    refetchInterval: MAILBOX_REFETCH_MS,
  });
  return (
    <ListTable
      query={mailboxes}
      empty="No mailbox is fetched yet: give an email server an incoming protocol."
      label="Mailboxes"
      columns={["Server", "Status", "Last success", "Last error", { label: "Messages fetched", numeric: true }, "New mail"]}
      minWidth={820}
      renderRow={(mailbox) => <MailboxRow key={`${mailbox.email_server_id}/${mailbox.folder}`} mailbox={mailbox} name={serverName(mailbox.email_server_id)} />}
    />
  );
}

function MailboxRow({ mailbox, name }: { mailbox: Mailbox; name: string }) {
  const status = STATUS[mailbox.status];
  return (
    <Table.Tr data-testid={`mailbox-${name}`}>
      <Table.Td>
        <Text size="sm" fw={500}>
          {name}
        </Text>
        {mailbox.folder && (
          <Text size="xs" c="dimmed">
            {mailbox.folder}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Badge color={status.color} variant="light">
          {status.label}
        </Badge>
        {mailbox.consecutive_failures > 0 && (
          <Text size="xs" c="red" mt={2}>
            {mailbox.consecutive_failures} failed attempt{mailbox.consecutive_failures === 1 ? "" : "s"} in a row
          </Text>
        )}
        {mailbox.failing_since && (
          <Text size="xs" c="dimmed">
            failing since {formatDateTime(mailbox.failing_since)}
            {mailbox.alerted_at ? `; groups told ${formatDateTime(mailbox.alerted_at)}` : ""}
          </Text>
        )}
      </Table.Td>
      <Table.Td>{formatDateTime(mailbox.last_ok_at)}</Table.Td>
      <Table.Td maw={320}>
        {mailbox.last_error ? (
          <>
            <Text size="sm" lineClamp={2} title={mailbox.last_error}>
              {mailbox.last_error}
            </Text>
            <Text size="xs" c="dimmed">
              {formatDateTime(mailbox.last_error_at)}
            </Text>
          </>
        ) : (
          <Text size="sm" c="dimmed">
            —
          </Text>
        )}
      </Table.Td>
      <Table.Td ta="right">{mailbox.fetched_total}</Table.Td>
      <Table.Td>
        <Text size="sm">{mailbox.uses_idle === null ? "—" : mailbox.uses_idle ? "pushed (IDLE)" : "polled"}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

function Quarantine({ serverName }: { serverName: (id: string) => string }) {
  const queryClient = useQueryClient();
  const [offset, setOffset] = useState(0);
  const quarantine = useQuery({
    queryKey: ["inbound", "quarantine", { offset }],
    placeholderData: keepPreviousData,
    queryFn: () => must(api.GET("/api/inbound/quarantine", { params: { query: { offset, limit: PAGE_SIZE } } })),
  });
  const reprocess = useMutation({
    mutationFn: (mail: QuarantinedMail) => must(api.POST("/api/inbound/quarantine/{mail_id}/reprocess", { params: { path: { mail_id: mail.id } } })),
    onSuccess: (result) => {
      const taken = result.outcome === "ingested" || result.outcome === "duplicate" || result.outcome === "own";
      notify(taken ? `Message taken in (${result.outcome})${result.note ? `: ${result.note}` : "."}` : `Still quarantined${result.note ? `: ${result.note}` : "."}`, taken ? "teal" : "orange");
      void queryClient.invalidateQueries({ queryKey: ["inbound"] });
    },
  });
  return (
    <Stack gap="sm">
      {reprocess.error ? <ErrorAlert error={reprocess.error} title="Could not reprocess the message" /> : null}
      <PagedTable
        query={quarantine}
        empty="No message in quarantine."
        onOffset={setOffset}
        label="Quarantined messages"
        columns={["Received", "Server", "Message", "Error", { label: "Attempts", numeric: true }, ACTIONS_COLUMN]}
        minWidth={900}
        renderRow={(mail) => (
          <Table.Tr key={mail.id}>
            <Table.Td>{formatDateTime(mail.received_at)}</Table.Td>
            <Table.Td>{serverName(mail.email_server_id)}</Table.Td>
            <Table.Td maw={260}>
              <Text size="sm" truncate title={mail.message_id_header ?? undefined}>
                {mail.message_id_header ?? "(no Message-ID)"}
              </Text>
              <Text size="xs" c="dimmed">
                {formatSize(mail.size_bytes)}
                {mail.uid !== null ? ` · UID ${mail.uid}` : mail.uidl ? ` · ${mail.uidl}` : ""}
              </Text>
            </Table.Td>
            <Table.Td maw={360}>
              <Tooltip label={mail.error} multiline w={420} disabled={mail.error.length < 80}>
                <Text size="sm" c="red.8" lineClamp={2}>
                  {mail.error || "—"}
                </Text>
              </Tooltip>
            </Table.Td>
            <Table.Td ta="right">{mail.attempts}</Table.Td>
            <Table.Td>
              <Group justify="flex-end">
                <Button
                  size="xs"
                  variant="light"
                  loading={reprocess.isPending && reprocess.variables?.id === mail.id}
                  disabled={reprocess.isPending}
                  onClick={() => reprocess.mutate(mail)}
                  aria-label={`Reprocess the message received ${formatDateTime(mail.received_at)}`}
                >
                  Reprocess
                </Button>
              </Group>
            </Table.Td>
          </Table.Tr>
        )}
      />
    </Stack>
  );
}
