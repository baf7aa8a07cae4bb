// Email servers: where mail is sent from and fetched into, with their connection status.
import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  Divider,
  Group,
  List,
  Paper,
  PasswordInput,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, Route, Routes, useNavigate, useParams } from "react-router-dom";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, ConfirmDeleteModal, EmptyState, FormAlert, ListTable, PageHeader, QueryState } from "../../components/ui";
import { errorExtra, must } from "../../lib/http";
import { formatDateTime } from "../../lib/format";
import { formProblems, unshownProblems, useFormValues } from "../../lib/forms";
import { ChannelFilters } from "./ChannelFilters";
import {
  defaultIncomingPort,
  defaultSmtpPort,
  EMPTY_SERVER,
  type EmailServer,
  NO_STORED_SECRETS,
  serverClientProblems,
  serverFormValues,
  serverPayload,
  type ServerFormValues,
  storedSecrets,
  visibleServerFields,
} from "./serverForm";

type TestResult = Schemas["ConnectionTestResult"];
type Dependent = { kind: string; id: string; name: string };

export function useEmailServers() {
  return useQuery({ queryKey: ["email-servers"], queryFn: () => must(api.GET("/api/email-servers")) });
}

export function ServersPage() {
  return (
    <Routes>
      <Route index element={<ServerList />} />
      <Route path="new" element={<ServerEditor />} />
      <Route path=":serverId" element={<ServerEditor />} />
    </Routes>
  );
}

const STATUS: Record<EmailServer["status"], { color: string; label: string }> = {
  ok: { color: "green", label: "Connected" },
  failing: { color: "red", label: "Failing" },
  untested: { color: "gray", label: "Not tested" },
};

export function ServerStatusBadge({ status }: { status: EmailServer["status"] }) {
  return (
    <Badge color={STATUS[status].color} variant="light" leftSection="●">
      {STATUS[status].label}
    </Badge>
  );
}

function ServerList() {
  const servers = useEmailServers();
  const queryClient = useQueryClient();
  const [deleting, setDeleting] = useState<EmailServer | null>(null);
  const [results, setResults] = useState<Record<string, TestResult>>({});

  const test = useMutation({
    mutationFn: (server: EmailServer) => must(api.POST("/api/email-servers/{server_id}/test", { params: { path: { server_id: server.id } } })),
    onSuccess: (result, server) => {
      setResults((current) => ({ ...current, [server.id]: result }));
      void queryClient.invalidateQueries({ queryKey: ["email-servers"] });
    },
    onError: () => notify("The connection test could not be run.", "red"),
  });
  const remove = useMutation({
    mutationFn: (server: EmailServer) => must(api.DELETE("/api/email-servers/{server_id}", { params: { path: { server_id: server.id } } })),
    onSuccess: (_, server) => {
      setDeleting(null);
      notify(`Email server “${server.name}” deleted.`);
      void queryClient.invalidateQueries({ queryKey: ["email-servers"] });
    },
  });
  const dependents = errorExtra<Dependent[]>(remove.error, "dependents") ?? [];

  return (
    <>
      <PageHeader
        title="Email servers"
        description="Outgoing (SMTP or SendGrid) and incoming (IMAP or POP3) mail servers used by campaigns."
        actions={
          <Button component={Link} to="new">
            New email server
          </Button>
        }
      />
      <ListTable
        query={servers}
        empty="No email server yet. Add one to send and receive your campaigns' mail."
        label="Email servers"
        columns={["Name", "Sending", "Receiving", "Status", "Last tested", ACTIONS_COLUMN]}
        highlightOnHover
        renderRow={(server) => (
          <Table.Tr key={server.id} data-testid={`server-${server.name}`}>
            <Table.Td>
              <Group gap="xs">
                <Anchor component={Link} to={server.id} fw={500}>
                  {server.name}
                </Anchor>
                {server.is_default && (
                  <Badge size="xs" variant="outline">
                    default
                  </Badge>
                )}
              </Group>
              <Text size="xs" c="dimmed">
                {server.sender_email}
              </Text>
            </Table.Td>
            <Table.Td>
              {server.server_type === "sendgrid" ? "SendGrid" : `SMTP ${server.smtp_host}:${server.smtp_port}`}
            </Table.Td>
            <Table.Td>
              {server.incoming_protocol === "none"
                ? "—"
                : `${server.incoming_protocol.toUpperCase()} ${server.incoming_host}:${server.incoming_port}`}
            </Table.Td>
            <Table.Td>
              <ServerStatusBadge status={server.status} />
            </Table.Td>
            <Table.Td>{formatDateTime(server.last_tested_at)}</Table.Td>
            <Table.Td>
              <Group gap="xs" justify="flex-end" wrap="nowrap">
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => test.mutate(server)}
                  loading={test.isPending && test.variables?.id === server.id}
                  aria-label={`Test connection of ${server.name}`}
                >
                  Test
                </Button>
                <Button size="xs" variant="subtle" color="red" onClick={() => { remove.reset(); setDeleting(server); }} aria-label={`Delete ${server.name}`}>
                  Delete
                </Button>
              </Group>
              {results[server.id] && <LegResults result={results[server.id]} compact />}
            </Table.Td>
          </Table.Tr>
        )}
      />
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        what="email server"
        name={deleting?.name ?? ""}
        consequence="Campaigns using this server can no longer send or receive mail. The server is refused while a campaign or a dialer list still uses it."
        onConfirm={() => deleting && remove.mutate(deleting)}
        busy={remove.isPending}
        error={remove.error}
        blockers={
          dependents.length > 0 && (
            <>
              <Text size="sm" mt="xs">
                Move these to another server first:
              </Text>
              <List size="sm">
                {dependents.map((dependent) => (
                  <List.Item key={dependent.id}>
                    {dependent.kind}: {dependent.name}
                  </List.Item>
                ))}
              </List>
            </>
          )
        }
      />
    </>
  );
}

export function LegResults({ result, compact = false }: { result: TestResult; compact?: boolean }) {
  return (
    <Stack gap={4} mt={compact ? "xs" : 0} aria-label="Connection test results" role="list">
      {result.legs.map((leg) => (
        <Group key={leg.leg} gap="xs" wrap="nowrap" role="listitem" align="flex-start">
          <Badge color={leg.ok ? "green" : "red"} variant="filled" size="sm" miw={90}>
            {leg.leg} {leg.ok ? "ok" : "failed"}
          </Badge>
          <Text size="sm">
            <b>{leg.protocol.toUpperCase()}</b>: {leg.message}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

function ServerEditor() {
  const { serverId } = useParams();
  const server = useQuery({
    queryKey: ["email-servers", serverId],
    enabled: Boolean(serverId),
    queryFn: () => must(api.GET("/api/email-servers/{server_id}", { params: { path: { server_id: serverId! } } })),
  });
  if (!serverId) return <ServerForm />;
  return (
    <QueryState query={server} label="the email server">
      {(loaded) => (
        <Stack maw={1100}>
          <ServerForm server={loaded} key={loaded.id + loaded.updated_at} />
          <ChannelFilters serverId={loaded.id} />
        </Stack>
      )}
    </QueryState>
  );
}

const SECURITY_OPTIONS = [
  { value: "none", label: "None" },
  { value: "starttls", label: "STARTTLS" },
  { value: "tls", label: "TLS" },
];

function ServerForm({ server }: { server?: EmailServer }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const form = useFormValues<ServerFormValues>(server ? serverFormValues(server) : EMPTY_SERVER);
  const { values, set } = form;
  const stored = server ? storedSecrets(server) : NO_STORED_SECRETS;
  const [clientProblems, setClientProblems] = useState<Record<string, string> | null>(null);
  const [testResult, setTestResult] = useState<TestResult | null>(null);
  const visible = visibleServerFields(values.server_type, values.incoming_protocol);

  const save = useMutation({
    mutationFn: ({ verify }: { verify: boolean }) => {
      const body = serverPayload(values);
      return server
        ? must(api.PATCH("/api/email-servers/{server_id}", { params: { path: { server_id: server.id }, query: { verify } }, body }))
        : must(api.POST("/api/email-servers", { params: { query: { verify } }, body }));
    },
    onSuccess: (saved) => {
      notify(`Email server “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["email-servers"] });
      navigate("/email-servers");
    },
  });
  const test = useMutation({
    mutationFn: () =>
      server
        ? must(api.POST("/api/email-servers/{server_id}/test", { params: { path: { server_id: server.id } } }))
        : must(api.POST("/api/email-servers/test", { body: serverPayload(values) })),
    onSuccess: (result) => {
      setTestResult(result);
      if (server) void queryClient.invalidateQueries({ queryKey: ["email-servers"] });
    },
  });
  const problems = formProblems(clientProblems, save.error ?? test.error);
  const error = (field: keyof ServerFormValues) => problems?.fields[field];

  const submit = (verify: boolean) => {
    const found = serverClientProblems(values, stored);
    setClientProblems(found);
    if (Object.keys(found).length === 0) save.mutate({ verify });
  };
  const runTest = () => {
    setTestResult(null);
    if (!server) {
      const found = serverClientProblems({ ...values, name: values.name || "unsaved" }, stored);
      setClientProblems(found);
      if (Object.keys(found).length > 0) return;
    }
    test.mutate();
  };
  const secretHint = (has: boolean) => (server && has ? "Stored. Leave blank to keep it." : undefined);
  const text = (field: keyof ServerFormValues, label: string, extra: Record<string, unknown> = {}) => (
    <TextInput
      label={label}
      value={values[field] as string}
      onChange={(event) => set(field, event.currentTarget.value as never)}
      error={error(field)}
      {...extra}
    />
  );

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        submit(false);
      }}
      aria-label={server ? `Edit email server ${server.name}` : "New email server"}
      noValidate
    >
      <PageHeader
        title={server ? `Email server “${server.name}”` : "New email server"}
        description={server ? <ServerStatusBadge status={server.status} /> : "Fill in how this server sends and, optionally, receives mail."}
      />
      <Stack maw={820}>
        <FormAlert problems={problems} extra={unshownProblems(problems, visible)} />
        <Paper withBorder p="lg" radius="md">
          <Title order={4} mb="sm">
            General
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {text("name", "Name", { required: true, description: "Unique within your company." })}
            <Stack gap={4}>
              <Text size="sm" fw={500} id="server-type-label">
                Server type
              </Text>
              <SegmentedControl
                aria-labelledby="server-type-label"
                value={values.server_type}
                onChange={(value) => set("server_type", value as ServerFormValues["server_type"])}
                data={[
                  { value: "smtp", label: "SMTP" },
                  { value: "sendgrid", label: "SendGrid" },
                ]}
              />
            </Stack>
            {text("sender_email", "Sender email", { required: true, type: "email" })}
            {text("sender_name", "Sender name")}
            {text("reply_to", "Reply to", { type: "email", description: "Where customers' replies go; blank uses the sender email." })}
            <Checkbox
              mt="lg"
              label="Default server for new campaigns"
              checked={values.is_default}
              onChange={(event) => set("is_default", event.currentTarget.checked)}
            />
          </SimpleGrid>
        </Paper>

        <Paper withBorder p="lg" radius="md">
          <Title order={4} mb="sm">
            Outgoing mail
          </Title>
          {values.server_type === "sendgrid" ? (
            <PasswordInput
              label="SendGrid API token"
              required={!stored.sendgrid_api_token}
              description={secretHint(stored.sendgrid_api_token)}
              value={values.sendgrid_api_token}
              onChange={(event) => set("sendgrid_api_token", event.currentTarget.value)}
              error={error("sendgrid_api_token")}
              autoComplete="off"
            />
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {text("smtp_host", "SMTP server", { required: true, placeholder: "smtp.example.com" })}
              <Group grow align="flex-start">
                <Select
                  label="SMTP security"
                  data={SECURITY_OPTIONS}
                  value={values.smtp_security}
                  onChange={(value) => value && set("smtp_security", value as ServerFormValues["smtp_security"])}
                  allowDeselect={false}
                />
                {text("smtp_port", "SMTP port", { placeholder: String(defaultSmtpPort(values.smtp_security)), inputMode: "numeric" })}
              </Group>
              {text("smtp_username", "SMTP user name", { autoComplete: "off" })}
              <PasswordInput
                label="SMTP password"
                description={secretHint(stored.smtp_password)}
                value={values.smtp_password}
                onChange={(event) => set("smtp_password", event.currentTarget.value)}
                error={error("smtp_password")}
                autoComplete="new-password"
              />
            </SimpleGrid>
          )}
        </Paper>

        <Paper withBorder p="lg" radius="md">
          <Title order={4} mb="sm">
            Incoming mail
          </Title>
          <Stack gap={4} mb="sm">
            <Text size="sm" fw={500} id="incoming-label">
              Receive mail with
            </Text>
            <SegmentedControl
              aria-labelledby="incoming-label"
              value={values.incoming_protocol}
              onChange={(value) => set("incoming_protocol", value as ServerFormValues["incoming_protocol"])}
              data={[
                { value: "none", label: "Send only" },
                { value: "imap", label: "IMAP" },
                { value: "pop3", label: "POP3" },
              ]}
              w={300}
            />
          </Stack>
          {values.incoming_protocol !== "none" && (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {text("incoming_host", `${values.incoming_protocol.toUpperCase()} server`, { required: true })}
              <Group grow align="flex-start">
                <Select
                  label={`${values.incoming_protocol.toUpperCase()} security`}
                  data={SECURITY_OPTIONS}
                  value={values.incoming_security}
                  onChange={(value) => value && set("incoming_security", value as ServerFormValues["incoming_security"])}
                  allowDeselect={false}
                />
                {text("incoming_port", `${values.incoming_protocol.toUpperCase()} port`, {
                  placeholder: String(defaultIncomingPort(values.incoming_protocol, values.incoming_security)),
                  inputMode: "numeric",
                })}
              </Group>
              {text("incoming_username", `${values.incoming_protocol.toUpperCase()} user name`, { required: true, autoComplete: "off" })}
              <PasswordInput
                label={`${values.incoming_protocol.toUpperCase()} password`}
                required={!stored.incoming_password}
                description={secretHint(stored.incoming_password)}
                value={values.incoming_password}
                onChange={(event) => set("incoming_password", event.currentTarget.value)}
                error={error("incoming_password")}
                autoComplete="new-password"
              />
              {values.incoming_protocol === "imap" && text("imap_folder", "IMAP folder")}
              <Select
                label="After fetching a message"
                data={[
                  { value: "mark_seen", label: "Mark it as read" },
                  { value: "keep", label: "Leave it unchanged" },
                  { value: "delete", label: "Delete it from the server" },
                ]}
                value={values.after_fetch}
                onChange={(value) => value && set("after_fetch", value as ServerFormValues["after_fetch"])}
                allowDeselect={false}
                error={error("after_fetch")}
              />
            </SimpleGrid>
          )}
        </Paper>

        {testResult && (
          <Paper withBorder p="md" radius="md" bg={testResult.ok ? "green.0" : "red.0"}>
            <Text fw={500} mb="xs">
              {testResult.ok ? "Connection test passed" : "Connection test failed"}
            </Text>
            <LegResults result={testResult} />
          </Paper>
        )}
        <Divider />
        <Group justify="space-between">
          <Button variant="default" onClick={runTest} loading={test.isPending}>
            {server ? "Test saved settings" : "Test connection"}
          </Button>
          <Group>
            <Button variant="subtle" component={Link} to="/email-servers">
              Cancel
            </Button>
            <Button variant="light" onClick={() => submit(true)} loading={save.isPending && save.variables?.verify}>
              {server ? "Save and test" : "Create and test"}
            </Button>
            <Button type="submit" loading={save.isPending && !save.variables?.verify}>
              {server ? "Save" : "Create"}
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}

export function serverOptions(servers: EmailServer[] | undefined) {
  return (servers ?? []).map((server) => ({ value: server.id, label: `${server.name} (${server.sender_email})` }));
}

export function NoServersHint() {
  return (
    <EmptyState>
      No email server yet. <Anchor component={Link} to="/email-servers/new">Add one</Anchor> first.
    </EmptyState>
  );
}
