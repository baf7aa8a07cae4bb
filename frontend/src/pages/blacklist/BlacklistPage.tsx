// Blacklist: addresses and domains never mailed (hard bounces, unsubscribes, spam reports), with CSV import.
import { ActionIcon, Alert, Badge, Button, FileButton, Group, Modal, Paper, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, FormAlert, PagedTable, PageHeader, SearchInput } from "../../components/ui";
import { formatDateTime } from "../../lib/format";
import { formProblems } from "../../lib/forms";
import { definedParams, must } from "../../lib/http";

type Reason = Schemas["BlacklistReason"];

const REASONS: { value: Reason; label: string }[] = [
  { value: "manual", label: "Added by hand" },
  { value: "spam_report", label: "Spam report" },
  { value: "hard_bounce", label: "Hard bounce" },
  { value: "unsubscribe", label: "Unsubscribed" },
];
const reasonLabel = (reason: string) => REASONS.find((r) => r.value === reason)?.label ?? reason;
const PAGE_SIZE = 25;

export function BlacklistPage() {
  const queryClient = useQueryClient();
  const [search, setSearch] = useState("");
  const [kind, setKind] = useState<string | null>(null);
  const [reason, setReason] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const [importing, setImporting] = useState(false);
  const entries = useQuery({
    queryKey: ["blacklist", { search, kind, reason, offset }],
    placeholderData: keepPreviousData,
    queryFn: () =>
      must(
        api.GET("/api/blacklist", {
          params: { query: definedParams({ q: search, kind: kind as Schemas["EntryKind"] | null, reason: reason as Reason | null, offset, limit: PAGE_SIZE }) },
        }),
      ),
  });
  const remove = useMutation({
    mutationFn: (entryId: string) => must(api.DELETE("/api/blacklist/{entry_id}", { params: { path: { entry_id: entryId } } })),
    onSuccess: () => {
      notify("Removed from the blacklist.");
      void queryClient.invalidateQueries({ queryKey: ["blacklist"] });
    },
  });
  const onSearch = useCallback((value: string) => {
    setSearch(value);
    setOffset(0);
  }, []);
  const filtered = Boolean(search || kind || reason);

  return (
    <>
      <PageHeader
        title="Blacklist"
        description="Addresses and whole domains that no campaign or dialer list will send to."
        actions={
          <Button variant="default" onClick={() => setImporting(true)}>
            Import
          </Button>
        }
      />
      <Stack>
        <AddEntryForm />
        <CheckAddress />
        <Group>
          <SearchInput value={search} onChange={onSearch} label="Search the blacklist" />
          <Select aria-label="Kind" placeholder="Addresses and domains" data={[{ value: "address", label: "Addresses" }, { value: "domain", label: "Domains" }]} value={kind} onChange={(v) => { setKind(v); setOffset(0); }} clearable w={200} />
          <Select aria-label="Reason" placeholder="Any reason" data={REASONS} value={reason} onChange={(v) => { setReason(v); setOffset(0); }} clearable w={200} />
        </Group>
        <PagedTable
          query={entries}
          what="the blacklist"
          empty={filtered ? "No entry matches these filters." : "The blacklist is empty."}
          onOffset={setOffset}
          label="Blacklist"
          columns={["Address or domain", "Reason", "Source", "Added", ACTIONS_COLUMN]}
          spacing="xs"
          highlightOnHover
          renderRow={(entry) => (
            <Table.Tr key={entry.id}>
              <Table.Td>
                <Group gap="xs">
                  <Text size="sm" ff="monospace">
                    {entry.value}
                  </Text>
                  {entry.kind === "domain" && (
                    <Badge size="xs" variant="outline">
                      domain
                    </Badge>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>{reasonLabel(entry.reason)}</Table.Td>
              <Table.Td>{entry.source || "—"}</Table.Td>
              <Table.Td>{formatDateTime(entry.created_at)}</Table.Td>
              <Table.Td>
                <ActionIcon variant="subtle" color="red" aria-label={`Remove ${entry.value}`} onClick={() => remove.mutate(entry.id)} loading={remove.isPending && remove.variables === entry.id}>
                  ✕
                </ActionIcon>
              </Table.Td>
            </Table.Tr>
          )}
        />
      </Stack>
      {importing && <ImportModal onClose={() => setImporting(false)} />}
    </>
  );
}

function AddEntryForm() {
  const queryClient = useQueryClient();
  const [value, setValue] = useState("");
  const [reason, setReason] = useState<Reason>("manual");
  const [source, setSource] = useState("");
  const add = useMutation({
    mutationFn: () => must(api.POST("/api/blacklist", { body: { value: value.trim(), reason, source } })),
    onSuccess: (entry) => {
      notify(`${entry.value} is blacklisted.`);
      setValue("");
      setSource("");
      void queryClient.invalidateQueries({ queryKey: ["blacklist"] });
    },
  });
  const problems = formProblems(null, add.error);
  return (
    <Paper withBorder p="md" radius="md">
      <form noValidate
        aria-label="Add to the blacklist"
        onSubmit={(event) => {
          event.preventDefault();
          add.mutate();
        }}
      >
        <SimpleGrid cols={{ base: 1, sm: 4 }}>
          <TextInput label="Address or domain" placeholder="name@example.com or example.com" required value={value} onChange={(e) => setValue(e.currentTarget.value)} error={problems?.fields.value ?? (problems && !Object.keys(problems.fields).length ? problems.message : undefined)} />
          <Select label="Reason" data={REASONS} value={reason} onChange={(v) => v && setReason(v as Reason)} allowDeselect={false} />
          <TextInput label="Source" placeholder="Optional note" value={source} onChange={(e) => setSource(e.currentTarget.value)} error={problems?.fields.source} />
          <Button type="submit" mt={24} loading={add.isPending}>
            Add to blacklist
          </Button>
        </SimpleGrid>
      </form>
    </Paper>
  );
}

function CheckAddress() {
  const [address, setAddress] = useState("");
  const check = useMutation({ mutationFn: () => must(api.GET("/api/blacklist/check", { params: { query: { address: address.trim() } } })) });
  const problems = formProblems(null, check.error);
  return (
    <form noValidate
      aria-label="Check an address"
      onSubmit={(event) => {
        event.preventDefault();
        check.mutate();
      }}
    >
      <Group align="flex-end">
        <TextInput label="Check an address" placeholder="customer@example.com" value={address} onChange={(e) => setAddress(e.currentTarget.value)} error={problems?.fields.address ?? (problems && !Object.keys(problems.fields).length ? problems.message : undefined)} w={320} />
        <Button variant="light" type="submit" loading={check.isPending}>
          Check
        </Button>
        {check.data && (
          <Badge color={check.data.blacklisted ? "red" : "green"} size="lg" variant="light" role="status">
            {check.data.address} {check.data.blacklisted ? "is blacklisted" : "is not blacklisted"}
          </Badge>
        )}
      </Group>
    </form>
  );
}

function ImportModal({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [csv, setCsv] = useState("");
  const [reason, setReason] = useState<Reason>("manual");
  const run = useMutation({
    mutationFn: () => must(api.POST("/api/blacklist/import", { body: { csv, reason, source: "import" } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["blacklist"] }),
  });
  const problems = formProblems(null, run.error);
  return (
    <Modal opened onClose={onClose} title="Import into the blacklist" size="lg" centered>
      <Stack>
        <Text size="sm">
          One entry per line: <code>value[,reason[,source]]</code>. A header row is optional; rows without a reason use the one chosen here.
        </Text>
        <FormAlert problems={problems} />
        <Group>
          <FileButton accept=".csv,text/csv,text/plain" onChange={(file) => file && void file.text().then(setCsv)}>
            {(props) => (
              <Button variant="default" {...props}>
                Choose a CSV file…
              </Button>
            )}
          </FileButton>
          <Select aria-label="Default reason" data={REASONS} value={reason} onChange={(v) => v && setReason(v as Reason)} allowDeselect={false} w={200} />
        </Group>
        <Textarea label="CSV" autosize minRows={6} maxRows={14} value={csv} onChange={(e) => setCsv(e.currentTarget.value)} error={problems?.fields.csv} styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }} />
        {run.data && (
          <Alert color={run.data.errors.length ? "yellow" : "green"} title="Import finished" role="status">
            <Text size="sm">
              {run.data.added} added, {run.data.already_listed} already listed, {run.data.errors.length} refused.
            </Text>
            {run.data.errors.length > 0 && (
              <Table mt="xs" aria-label="Refused rows">
                <Table.Tbody>
                  {run.data.errors.map((error) => (
                    <Table.Tr key={`${error.row}-${error.field}`}>
                      <Table.Td>Row {error.row}</Table.Td>
                      <Table.Td>{error.field}</Table.Td>
                      <Table.Td>{error.message}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Close
          </Button>
          <Button onClick={() => run.mutate()} disabled={!csv.trim()} loading={run.isPending}>
            Import
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
