// Email groups: contact-centre addresses informed by automated emails (lost interactions, failed deliveries).
import { ActionIcon, Badge, Button, Group, MultiSelect, Paper, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { Route, Routes, useNavigate, useParams } from "react-router-dom";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ConfirmDeleteModal, EmptyState, FormModal, LinkCell, PagedTable, PageHeader, QueryState, SearchInput } from "../../components/ui";
import { describeError } from "../../errors";
import { formatDate } from "../../lib/format";
import { formProblems } from "../../lib/forms";
import { definedParams, must } from "../../lib/http";
import { options, useCampaignOptions } from "../../lib/queries";

type EmailGroup = Schemas["EmailGroupPublic"];
type NotificationEvent = Schemas["NotificationEvent"];

const EVENTS: { value: NotificationEvent; label: string }[] = [
  { value: "interaction_lost", label: "Interaction lost" },
  { value: "service_level_breached", label: "Service level breached" },
  { value: "delivery_failed", label: "Delivery failed" },
  { value: "failed_call", label: "Failed call" },
];

export function EmailGroupsPage() {
  return (
    <Routes>
      <Route index element={<EmailGroupList />} />
      <Route path=":groupId" element={<EmailGroupDetails />} />
    </Routes>
  );
}

const PAGE_SIZE = 20;

function EmailGroupList() {
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const groups = useQuery({
    queryKey: ["email-groups", "list", { search, offset }],
    placeholderData: keepPreviousData,
    queryFn: () => must(api.GET("/api/email-groups", { params: { query: definedParams({ q: search, offset, limit: PAGE_SIZE }) } })),
  });
  const onSearch = useCallback((value: string) => {
    setSearch(value);
    setOffset(0);
  }, []);
  return (
    <>
      <PageHeader
        title="Email groups"
        description="Addresses of your contact centre that are informed by automated emails, e.g. of lost interactions."
        actions={<Button onClick={() => setCreating(true)}>New email group</Button>}
      />
      <Group mb="md">
        <SearchInput value={search} onChange={onSearch} label="Search email groups" />
      </Group>
      <PagedTable
        query={groups}
        empty={search ? "No email group matches." : "No email group yet."}
        onOffset={setOffset}
        label="Email groups"
        columns={["Name", "Description", "Created"]}
        highlightOnHover
        renderRow={(group) => (
          <Table.Tr key={group.id}>
            <LinkCell to={group.id} name={group.name} />
            <Table.Td>{group.description || "—"}</Table.Td>
            <Table.Td>{formatDate(group.created_at)}</Table.Td>
          </Table.Tr>
        )}
      />
      {creating && <GroupModal onClose={() => setCreating(false)} />}
    </>
  );
}

function GroupModal({ group, onClose }: { group?: EmailGroup; onClose: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const save = useMutation({
    mutationFn: () =>
      group
        ? must(api.PATCH("/api/email-groups/{group_id}", { params: { path: { group_id: group.id } }, body: { name, description } }))
        : must(api.POST("/api/email-groups", { body: { name, description } })),
    onSuccess: (saved) => {
      notify(`Email group “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["email-groups"] });
      onClose();
      if (!group) navigate(`/email-groups/${saved.id}`);
    },
  });
  const problems = formProblems(null, save.error);
  return (
    <FormModal
      title={group ? `Edit “${group.name}”` : "New email group"}
      onClose={onClose}
      onSubmit={() => save.mutate()}
      problems={problems}
      submitting={save.isPending}
      submitLabel={group ? "Save" : "Create"}
    >
      <TextInput label="Name" description="Unique designation of the group." required value={name} onChange={(e) => setName(e.currentTarget.value)} error={problems?.fields.name} data-autofocus />
      <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={problems?.fields.description} />
    </FormModal>
  );
}

function EmailGroupDetails() {
  const { groupId } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const group = useQuery({
    queryKey: ["email-groups", groupId],
    queryFn: () => must(api.GET("/api/email-groups/{group_id}", { params: { path: { group_id: groupId! } } })),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["email-groups", groupId] });
  const remove = useMutation({
    mutationFn: () => must(api.DELETE("/api/email-groups/{group_id}", { params: { path: { group_id: groupId! } } })),
    onSuccess: () => {
      notify("Email group deleted.");
      void queryClient.invalidateQueries({ queryKey: ["email-groups"] });
      navigate("/email-groups");
    },
  });
  return (
    <QueryState query={group} label="the email group">
      {(g) => (
        <>
          <PageHeader
            title={g.name}
            description={g.description || undefined}
            actions={
              <>
                <Button variant="subtle" color="red" onClick={() => setDeleting(true)}>
                  Delete
                </Button>
                <Button variant="default" onClick={() => setEditing(true)}>
                  Edit
                </Button>
              </>
            }
          />
          <Stack>
            <ContactsCard group={g} onChanged={refresh} />
            <CampaignsCard group={g} onChanged={refresh} />
          </Stack>
          {editing && <GroupModal group={g} onClose={() => setEditing(false)} />}
          <ConfirmDeleteModal
            opened={deleting}
            onClose={() => setDeleting(false)}
            what="email group"
            name={g.name}
            consequence="Its contacts stop receiving the campaigns' notifications."
            onConfirm={() => remove.mutate()}
            busy={remove.isPending}
            error={remove.error}
          />
        </>
      )}
    </QueryState>
  );
}

function ContactsCard({ group, onChanged }: { group: EmailGroup; onChanged: () => void }) {
  const empty = { email: "", contact_name: "", description: "" };
  const [contact, setContact] = useState(empty);
  const add = useMutation({
    mutationFn: () => must(api.POST("/api/email-groups/{group_id}/contacts", { params: { path: { group_id: group.id } }, body: contact })),
    onSuccess: () => {
      setContact(empty);
      onChanged();
    },
  });
  const remove = useMutation({
    mutationFn: (contactId: string) =>
      must(api.DELETE("/api/email-groups/{group_id}/contacts/{contact_id}", { params: { path: { group_id: group.id, contact_id: contactId } } })),
    onSuccess: onChanged,
  });
  const problems = formProblems(null, add.error);
  return (
    <Paper withBorder p="lg" radius="md">
      <Title order={4} mb="sm">
        Email contacts
      </Title>
      <form noValidate
        aria-label="Add contact"
        onSubmit={(event) => {
          event.preventDefault();
          add.mutate();
        }}
      >
        <SimpleGrid cols={{ base: 1, sm: 4 }} mb="md">
          <TextInput label="Email address" required type="email" value={contact.email} onChange={(e) => { const email = e.currentTarget.value; setContact((c) => ({ ...c, email })); }} error={problems?.fields.email} />
          <TextInput label="Contact name" value={contact.contact_name} onChange={(e) => { const contact_name = e.currentTarget.value; setContact((c) => ({ ...c, contact_name })); }} error={problems?.fields.contact_name} />
          <TextInput label="Description" value={contact.description} onChange={(e) => { const description = e.currentTarget.value; setContact((c) => ({ ...c, description })); }} error={problems?.fields.description} />
          <Button type="submit" mt={24} loading={add.isPending}>
            Add
          </Button>
        </SimpleGrid>
        {problems && !Object.keys(problems.fields).length && (
          <Text c="red" size="sm" role="alert" mb="sm">
            {problems.message}
          </Text>
        )}
      </form>
      {group.contacts.length === 0 ? (
        <EmptyState>No contact in this group yet.</EmptyState>
      ) : (
        <Table aria-label="Contacts">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Email address</Table.Th>
              <Table.Th>Contact name</Table.Th>
              <Table.Th>Description</Table.Th>
              <Table.Th aria-label="Actions" />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {group.contacts.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{c.email}</Table.Td>
                <Table.Td>{c.contact_name || "—"}</Table.Td>
                <Table.Td>{c.description || "—"}</Table.Td>
                <Table.Td>
                  <ActionIcon variant="subtle" color="red" aria-label={`Remove ${c.email}`} onClick={() => remove.mutate(c.id)} loading={remove.isPending && remove.variables === c.id}>
                    ✕
                  </ActionIcon>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

function CampaignsCard({ group, onChanged }: { group: EmailGroup; onChanged: () => void }) {
  const campaigns = useCampaignOptions();
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const [events, setEvents] = useState<NotificationEvent[]>(["interaction_lost"]);
  const attach = useMutation({
    mutationFn: () =>
      must(api.PUT("/api/email-groups/{group_id}/campaigns/{campaign_id}", { params: { path: { group_id: group.id, campaign_id: campaignId! } }, body: { events } })),
    onSuccess: () => {
      setCampaignId(null);
      onChanged();
    },
  });
  const detach = useMutation({
    mutationFn: (id: string) => must(api.DELETE("/api/email-groups/{group_id}/campaigns/{campaign_id}", { params: { path: { group_id: group.id, campaign_id: id } } })),
    onSuccess: onChanged,
  });
  const eventLabel = (event: string) => EVENTS.find((e) => e.value === event)?.label ?? event;
  return (
    <Paper withBorder p="lg" radius="md">
      <Title order={4} mb="sm">
        Notified for campaigns
      </Title>
      <Group align="flex-end" mb="md">
        <Select label="Campaign" placeholder="Choose a campaign" data={options(campaigns.data?.items, (c) => c.title)} value={campaignId} onChange={setCampaignId} searchable w={260} />
        <MultiSelect label="Events" data={EVENTS} value={events} onChange={(v) => setEvents(v as NotificationEvent[])} w={360} error={attach.error ? describeError(attach.error).fields.events : undefined} />
        <Button onClick={() => attach.mutate()} disabled={!campaignId || events.length === 0} loading={attach.isPending}>
          Attach
        </Button>
      </Group>
      {attach.isError && !describeError(attach.error).fields.events && (
        <Text c="red" size="sm" role="alert" mb="sm">
          {describeError(attach.error).message}
        </Text>
      )}
      {group.campaigns.length === 0 ? (
        <Text c="dimmed" size="sm">
          Not attached to any campaign.
        </Text>
      ) : (
        <Table aria-label="Attached campaigns">
          <Table.Tbody>
            {group.campaigns.map((c) => (
              <Table.Tr key={c.campaign_id}>
                <Table.Td fw={500}>{c.title}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {c.events.map((event) => (
                      <Badge key={event} variant="light" size="sm">
                        {eventLabel(event)}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Button size="xs" variant="subtle" color="red" onClick={() => detach.mutate(c.campaign_id)}>
                    Detach
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}
