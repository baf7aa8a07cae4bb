// Channel filters of one email server: which campaign each incoming message goes to (first match wins),
// with a tester that answers "which campaign would this message go to" without changing anything.
import { ActionIcon, Alert, Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Switch, Table, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { QueryState } from "../../components/ui";
import { describeError } from "../../errors";
import { formProblems } from "../../lib/forms";
import { must } from "../../lib/http";
import { options, useCampaignOptions } from "../../lib/queries";

type Filter = Schemas["ChannelFilterPublic"];
type FilterField = Schemas["FilterField"];
type FilterMatch = Schemas["FilterMatch"];

const FIELDS: { value: FilterField; label: string }[] = [
  { value: "recipient", label: "Recipient" },
  { value: "sender", label: "Sender" },
  { value: "subject", label: "Subject" },
  { value: "body", label: "Body" },
];
const MATCHES: { value: FilterMatch; label: string }[] = [
  { value: "address", label: "is the address" },
  { value: "domain", label: "is in the domain" },
  { value: "contains", label: "contains" },
  { value: "regex", label: "matches the pattern" },
];
const label = (list: { value: string; label: string }[], value: string) => list.find((item) => item.value === value)?.label ?? value;

export function ChannelFilters({ serverId }: { serverId: string }) {
  const queryClient = useQueryClient();
  const campaigns = useCampaignOptions();
  const key = ["email-servers", serverId, "filters"];
  const filters = useQuery({ queryKey: key, queryFn: () => must(api.GET("/api/email-servers/{server_id}/filters", { params: { path: { server_id: serverId } } })) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: key });
  const campaignTitle = (id: string) => campaigns.data?.items.find((c) => c.id === id)?.title ?? "…";

  const reorder = useMutation({
    mutationFn: (ids: string[]) => must(api.PUT("/api/email-servers/{server_id}/filters/order", { params: { path: { server_id: serverId } }, body: { filter_ids: ids } })),
    onSuccess: refresh,
    onError: (error) => notify(describeError(error).message, "red"),
  });
  const toggle = useMutation({
    mutationFn: (filter: Filter) =>
      must(api.PATCH("/api/email-servers/{server_id}/filters/{filter_id}", { params: { path: { server_id: serverId, filter_id: filter.id } }, body: { enabled: !filter.enabled } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (filter: Filter) => must(api.DELETE("/api/email-servers/{server_id}/filters/{filter_id}", { params: { path: { server_id: serverId, filter_id: filter.id } } })),
    onSuccess: () => {
      notify("Filter deleted.");
      refresh();
    },
  });
  const move = (list: Filter[], index: number, by: number) => {
    const ids = list.map((f) => f.id);
    const [moved] = ids.splice(index, 1);
    ids.splice(index + by, 0, moved);
    reorder.mutate(ids);
  };

  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label="Channel filters">
      <Title order={4}>Channel filters</Title>
      <Text size="sm" c="dimmed" mb="sm">
        Incoming messages go to the campaign of the first filter that matches; others go to the default campaign.
      </Text>
      <QueryState query={filters} label="filters">
        {(list) =>
          list.length === 0 ? (
            <Text size="sm" c="dimmed" mb="md">
              No filter yet.
            </Text>
          ) : (
            <Table aria-label="Filters" mb="md">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th>Campaign</Table.Th>
                  <Table.Th>On</Table.Th>
                  <Table.Th aria-label="Actions" />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((filter, index) => (
                  <Table.Tr key={filter.id}>
                    <Table.Td>{index + 1}</Table.Td>
                    <Table.Td fw={500}>{filter.name}</Table.Td>
                    <Table.Td>
                      {label(FIELDS, filter.field)} {label(MATCHES, filter.match)} <code>{filter.value}</code>
                    </Table.Td>
                    <Table.Td>{campaignTitle(filter.campaign_id)}</Table.Td>
                    <Table.Td>
                      <Switch checked={filter.enabled} onChange={() => toggle.mutate(filter)} aria-label={`Enable ${filter.name}`} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap" justify="flex-end">
                        <ActionIcon variant="subtle" disabled={index === 0} onClick={() => move(list, index, -1)} aria-label={`Move ${filter.name} up`}>
                          ↑
                        </ActionIcon>
                        <ActionIcon variant="subtle" disabled={index === list.length - 1} onClick={() => move(list, index, 1)} aria-label={`Move ${filter.name} down`}>
                          ↓
                        </ActionIcon>
                        <ActionIcon variant="subtle" color="red" onClick={() => remove.mutate(filter)} aria-label={`Delete ${filter.name}`}>
                          ✕
                        </ActionIcon>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
      <NewFilterForm serverId={serverId} campaignOptions={options(campaigns.data?.items, (c) => c.title)} onAdded={refresh} />
      <FilterTester serverId={serverId} />
    </Paper>
  );
}

function NewFilterForm({ serverId, campaignOptions, onAdded }: { serverId: string; campaignOptions: { value: string; label: string }[]; onAdded: () => void }) {
  const empty = { name: "", field: "recipient" as FilterField, match: "address" as FilterMatch, value: "", campaign_id: null as string | null };
  const [values, setValues] = useState(empty);
  const add = useMutation({
    mutationFn: () => must(api.POST("/api/email-servers/{server_id}/filters", { params: { path: { server_id: serverId } }, body: { ...values, enabled: true, campaign_id: values.campaign_id ?? "" } })),
    onSuccess: () => {
      setValues(empty);
      setChecked(false);
      onAdded();
    },
  });
  const [checked, setChecked] = useState(false);
  const clientProblems: Record<string, string> = {};
  if (!values.name.trim()) clientProblems.name = "A filter name is required.";
  if (!values.value.trim()) clientProblems.value = "A value to match is required.";
  if (!values.campaign_id) clientProblems.campaign_id = "Choose the campaign that receives matching mail.";
  const problems = formProblems(checked ? clientProblems : null, add.error);
  return (
    <form
      noValidate
      aria-label="Add a filter"
      onSubmit={(event) => {
        event.preventDefault();
        setChecked(true);
        if (Object.keys(clientProblems).length === 0) add.mutate();
      }}
    >
      {problems && !Object.keys(problems.fields).length && (
        <Alert color="red" role="alert" mb="xs">
          {problems.message}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, sm: 3, lg: 6 }}>
        <TextInput label="Filter name" value={values.name} onChange={(e) => { const name = e.currentTarget.value; setValues((v) => ({ ...v, name })); }} error={problems?.fields.name} />
        <Select label="Field" data={FIELDS} value={values.field} onChange={(v) => v && setValues((x) => ({ ...x, field: v as FilterField }))} allowDeselect={false} />
        <Select label="Match" data={MATCHES} value={values.match} onChange={(v) => v && setValues((x) => ({ ...x, match: v as FilterMatch }))} allowDeselect={false} />
        <TextInput label="Value" value={values.value} onChange={(e) => { const value = e.currentTarget.value; setValues((v) => ({ ...v, value })); }} error={problems?.fields.value} />
        <Select label="Deliver to campaign" data={campaignOptions} value={values.campaign_id} onChange={(campaign_id) => setValues((v) => ({ ...v, campaign_id }))} searchable error={problems?.fields.campaign_id} />
        <Button type="submit" mt={24} loading={add.isPending}>
          Add filter
        </Button>
      </SimpleGrid>
    </form>
  );
}

function FilterTester({ serverId }: { serverId: string }) {
  const [raw, setRaw] = useState("From: customer@example.org\nTo: support@example.com\nSubject: Invoice question\n\nHello");
  const [deliveredTo, setDeliveredTo] = useState("");
  const test = useMutation({
    mutationFn: () =>
      must(
        api.POST("/api/email-servers/{server_id}/filters/test", {
          params: { path: { server_id: serverId } },
          body: { raw_message: raw, delivered_to: deliveredTo.trim() ? deliveredTo.split(/[,;]/).map((a) => a.trim()).filter(Boolean) : null },
        }),
      ),
  });
  const problems = formProblems(null, test.error);
  const result = test.data;
  return (
    <Stack mt="lg" gap="xs" aria-label="Filter tester" component="section">
      <Title order={5}>Which campaign would this message go to?</Title>
      <Textarea label="Raw message (headers and body)" autosize minRows={5} maxRows={14} value={raw} onChange={(e) => setRaw(e.currentTarget.value)} error={problems?.fields.raw_message} styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 12 } }} />
      <Group align="flex-end">
        <TextInput label="Delivered to (optional)" placeholder="Envelope recipients" value={deliveredTo} onChange={(e) => setDeliveredTo(e.currentTarget.value)} w={320} error={problems?.fields.delivered_to} />
        <Button variant="light" onClick={() => test.mutate()} loading={test.isPending}>
          Test filters
        </Button>
      </Group>
      {problems && !Object.keys(problems.fields).length && (
        <Alert color="red" role="alert">
          {problems.message}
        </Alert>
      )}
      {result && (
        <Alert color={result.reason === "no campaign" ? "orange" : "indigo"} role="status" title={result.campaign_title ? `Goes to “${result.campaign_title}”` : "No campaign would take it"}>
          <Text size="sm">
            {result.reason === "filter" ? `Matched by the filter “${result.filter_name}”.` : result.reason === "default" ? "No filter matched: the default campaign takes it." : "No filter matched and there is no default campaign."}
            {result.campaign_enabled === false && " That campaign is disabled."}
          </Text>
          <Text size="xs" c="dimmed" mt={4}>
            Read as: from {result.sender ?? "—"} to {result.recipients.join(", ") || "—"}, subject “{result.subject}”.
          </Text>
          {result.campaign_enabled === false && <Badge color="gray">disabled</Badge>}
        </Alert>
      )}
    </Stack>
  );
}
