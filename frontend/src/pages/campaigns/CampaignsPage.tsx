// Campaigns (queues): list, the sectioned form, details with templates, members and campaign groups.
import {
  ActionIcon,
  Anchor,
  Badge,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
  MultiSelect,
} from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useCallback, useState } from "react";
import { Link, Route, Routes, useLocation, useNavigate, useParams } from "react-router-dom";

import { api } from "../../api";
import { notify } from "../../components/notify";
import { ConfirmDeleteModal, FormAlert, LinkCell, PagedTable, PageHeader, QueryState, SearchInput } from "../../components/ui";
import { formatDate, formatDateTime, formatSeconds } from "../../lib/format";
import { formProblems, unshownProblems, useFormValues } from "../../lib/forms";
import { definedParams, must } from "../../lib/http";
import { options, useCampaignGroups, useTeams, useTemplateOptions } from "../../lib/queries";
import { serverOptions, useEmailServers } from "../servers/ServersPage";
import {
  type Campaign,
  campaignClientProblems,
  campaignFormValues,
  type CampaignFormValues,
  campaignPayload,
  EMPTY_CAMPAIGN,
  schedulePayload,
  SECTIONS,
  sectionOf,
  STRATEGIES,
  WEEKDAYS,
  type Weekday,
} from "./campaignForm";
import { CampaignGroupsPage } from "./CampaignGroupsPage";
import { MembersPage } from "./MembersPage";

export function CampaignsPage() {
  return (
    <Routes>
      <Route index element={<CampaignList />} />
      <Route path="members" element={<MembersPage />} />
      <Route path="groups" element={<CampaignGroupsPage />} />
      <Route path="new" element={<CampaignEditor />} />
      <Route path=":campaignId" element={<CampaignDetailsView />} />
      <Route path=":campaignId/edit" element={<CampaignEditor />} />
    </Routes>
  );
}

/** The tabs shared by the campaign list, members and groups screens. */
export function CampaignTabs() {
  const location = useLocation();
  const navigate = useNavigate();
  const current = location.pathname.endsWith("/members") ? "members" : location.pathname.endsWith("/groups") ? "groups" : "list";
  return (
    <Tabs value={current} onChange={(value) => navigate(value === "list" ? "/campaigns" : `/campaigns/${value}`)} mb="lg">
      <Tabs.List>
        <Tabs.Tab value="list">Campaigns</Tabs.Tab>
        <Tabs.Tab value="members">Members</Tabs.Tab>
        <Tabs.Tab value="groups">Campaign groups</Tabs.Tab>
      </Tabs.List>
    </Tabs>
  );
}

const PAGE_SIZE = 20;

function CampaignList() {
  const [search, setSearch] = useState("");
  const [groupId, setGroupId] = useState<string | null>(null);
  const [enabled, setEnabled] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const groups = useCampaignGroups();
  const groupName = (id: string | null) => groups.data?.find((group) => group.id === id)?.name ?? "—";
  const campaigns = useQuery({
    queryKey: ["campaigns", "list", { search, groupId, enabled, offset }],
    placeholderData: keepPreviousData,
    queryFn: () =>
      must(
        api.GET("/api/campaigns", {
          params: {
            query: definedParams({
              q: search,
              group_id: groupId,
              enabled: enabled === null ? null : enabled === "enabled",
              offset,
              limit: PAGE_SIZE,
            }),
          },
        }),
      ),
  });
  const onSearch = useCallback((value: string) => {
    setSearch(value);
    setOffset(0);
  }, []);

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Each campaign is a queue: where customer email lands, who answers it and how."
        actions={
          <Button component={Link} to="new">
            New campaign
          </Button>
        }
      />
      <CampaignTabs />
      <Group mb="md" align="flex-end">
        <SearchInput value={search} onChange={onSearch} label="Search campaigns" />
        <Select
          aria-label="Campaign group"
          placeholder="All groups"
          data={options(groups.data, (group) => group.name)}
          value={groupId}
          onChange={(value) => {
            setGroupId(value);
            setOffset(0);
          }}
          clearable
          w={200}
        />
        <Select
          aria-label="State"
          placeholder="Enabled and disabled"
          data={[
            { value: "enabled", label: "Enabled" },
            { value: "disabled", label: "Disabled" },
          ]}
          value={enabled}
          onChange={(value) => {
            setEnabled(value);
            setOffset(0);
          }}
          clearable
          w={200}
        />
      </Group>
      <PagedTable
        query={campaigns}
        empty={search || groupId || enabled ? "No campaign matches these filters." : "No campaign yet. Create the first one."}
        onOffset={setOffset}
        label="Campaigns"
        columns={["Title", "Group", "Service level", "Routing", "State"]}
        highlightOnHover
        renderRow={(campaign) => (
          <Table.Tr key={campaign.id}>
            <LinkCell to={campaign.id} name={campaign.title}>
              {campaign.description && (
                <Text size="xs" c="dimmed" lineClamp={1}>
                  {campaign.description}
                </Text>
              )}
            </LinkCell>
            <Table.Td>{groupName(campaign.group_id)}</Table.Td>
            <Table.Td>{formatSeconds(campaign.service_level_seconds)}</Table.Td>
            <Table.Td>{STRATEGIES.find((s) => s.value === campaign.strategy)?.label}</Table.Td>
            <Table.Td>
              <Badge color={campaign.enabled ? "green" : "gray"} variant="light">
                {campaign.enabled ? "Enabled" : "Disabled"}
              </Badge>
            </Table.Td>
          </Table.Tr>
        )}
      />
    </>
  );
}

function useCampaign(campaignId: string | undefined) {
  return useQuery({
    queryKey: ["campaigns", campaignId],
    enabled: Boolean(campaignId),
    queryFn: async () => {
      const path = { campaign_id: campaignId! };
      const [campaign, schedule] = await Promise.all([
        must(api.GET("/api/campaigns/{campaign_id}", { params: { path } })),
        must(api.GET("/api/campaigns/{campaign_id}/schedule", { params: { path } })),
      ]);
      return { campaign, schedule };
    },
  });
}

function CampaignEditor() {
  const { campaignId } = useParams();
  const loaded = useCampaign(campaignId);
  if (!campaignId) return <CampaignForm />;
  return (
    <QueryState query={loaded} label="the campaign">
      {({ campaign, schedule }) => <CampaignForm campaign={campaign} initial={campaignFormValues(campaign, schedule)} key={campaign.updated_at} />}
    </QueryState>
  );
}

function Section({ title, children, hasProblem }: { title: string; children: ReactNode; hasProblem: boolean }) {
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-label={title}>
      <Group gap="xs" mb="sm">
        <Title order={4}>{title}</Title>
        {hasProblem && (
          <Badge color="red" variant="light" size="sm">
            needs attention
          </Badge>
        )}
      </Group>
      {children}
    </Paper>
  );
}

function CampaignForm({ campaign, initial = EMPTY_CAMPAIGN }: { campaign?: Campaign; initial?: CampaignFormValues }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { values, set } = useFormValues<CampaignFormValues>(initial);
  const [clientProblems, setClientProblems] = useState<Record<string, string> | null>(null);
  const groups = useCampaignGroups();
  const teams = useTeams();
  const servers = useEmailServers();
  const autoReplies = useTemplateOptions("auto_reply");
  const signatures = useTemplateOptions("signature");

  const save = useMutation({
    mutationFn: async () => {
      const body = campaignPayload(values);
      const saved = campaign
        ? await must(api.PATCH("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: campaign.id } }, body }))
        : await must(api.POST("/api/campaigns", { body }));
      // The schedule has its own endpoint; its field paths (windows.0.opens) match the form's.
      await must(api.PUT("/api/campaigns/{campaign_id}/schedule", { params: { path: { campaign_id: saved.id } }, body: schedulePayload(values) }));
      return saved;
    },
    onSuccess: (saved) => {
      notify(`Campaign “${saved.title}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      navigate(`/campaigns/${saved.id}`);
    },
  });
  const problems = formProblems(clientProblems, save.error);
  const error = (field: string) => problems?.fields[field];
  const sectionsWithProblems = new Set(Object.keys(problems?.fields ?? {}).map(sectionOf));
  const shownFields = [...Object.values(SECTIONS).flat(), ...Object.keys(problems?.fields ?? {}).filter((f) => sectionOf(f))];

  const submit = () => {
    const found = campaignClientProblems(values);
    setClientProblems(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  const flag = (field: keyof CampaignFormValues, label: string, description?: string) => (
    <Checkbox
      label={label}
      description={description}
      checked={values[field] as boolean}
      onChange={(event) => set(field, event.currentTarget.checked as never)}
      error={error(field)}
    />
  );
  const seconds = (field: keyof CampaignFormValues, label: string, description?: string) => (
    <NumberInput
      label={label}
      description={description}
      suffix=" s"
      min={1}
      max={604800}
      allowDecimal={false}
      value={values[field] as number | string}
      onChange={(value) => set(field, value as never)}
      error={error(field)}
    />
  );

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
      aria-label={campaign ? `Edit campaign ${campaign.title}` : "New campaign"}
      noValidate
    >
      <PageHeader title={campaign ? `Edit “${campaign.title}”` : "New campaign"} />
      <Stack maw={900}>
        <FormAlert problems={problems} extra={unshownProblems(problems, shownFields)} />
        <Section title="General" hasProblem={sectionsWithProblems.has("General")}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Campaign title"
              required
              description="No quotation marks."
              value={values.title}
              onChange={(event) => set("title", event.currentTarget.value)}
              error={error("title")}
            />
            <Select
              label="Campaign group"
              placeholder="No group"
              data={options(groups.data, (group) => group.name)}
              value={values.group_id}
              onChange={(value) => set("group_id", value)}
              clearable
              error={error("group_id")}
            />
          </SimpleGrid>
          <Textarea
            mt="sm"
            label="Description"
            autosize
            minRows={2}
            value={values.description}
            onChange={(event) => set("description", event.currentTarget.value)}
            error={error("description")}
          />
          <Switch mt="md" label="Enabled" checked={values.enabled} onChange={(event) => set("enabled", event.currentTarget.checked)} />
        </Section>

        <Section title="Email" hasProblem={sectionsWithProblems.has("Email")}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Email server"
              placeholder="The company's default server"
              data={serverOptions(servers.data)}
              value={values.email_server_id}
              onChange={(value) => set("email_server_id", value)}
              clearable
              error={error("email_server_id")}
              nothingFoundMessage="No email server yet"
            />
            <TextInput
              label="From name"
              description="Shown to customers as the sender's name."
              value={values.from_name}
              onChange={(event) => set("from_name", event.currentTarget.value)}
              error={error("from_name")}
            />
          </SimpleGrid>
          <Switch
            mt="md"
            label="Receive emails"
            description="Fetch customer mail from the server's mailbox into this campaign."
            checked={values.receive_emails}
            onChange={(event) => set("receive_emails", event.currentTarget.checked)}
          />
        </Section>

        <Section title="Service & routing" hasProblem={sectionsWithProblems.has("Service & routing")}>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            {seconds("service_level_seconds", "Service level period", "Target time to answer.")}
            {seconds("warning_threshold_seconds", "Warning after")}
            {seconds("critical_threshold_seconds", "Critical after")}
            <Select
              label="Routing strategy"
              data={STRATEGIES}
              value={values.strategy}
              onChange={(value) => value && set("strategy", value as CampaignFormValues["strategy"])}
              allowDeselect={false}
              error={error("strategy")}
            />
            <NumberInput
              label="Interactions per agent"
              min={1}
              max={100}
              allowDecimal={false}
              value={values.max_interactions_per_agent}
              onChange={(value) => set("max_interactions_per_agent", value)}
              error={error("max_interactions_per_agent")}
            />
            <NumberInput
              label="Queue limit"
              placeholder="No limit"
              min={1}
              allowDecimal={false}
              value={values.max_interactions_in_queue}
              onChange={(value) => set("max_interactions_in_queue", value)}
              error={error("max_interactions_in_queue")}
            />
          </SimpleGrid>
          <MultiSelect
            mt="sm"
            label="Teams"
            placeholder="Pick teams"
            data={options(teams.data, (team) => team.name)}
            value={values.team_ids}
            onChange={(value) => set("team_ids", value)}
            error={error("team_ids")}
            searchable
          />
        </Section>

        <Section title="Schedules" hasProblem={sectionsWithProblems.has("Schedules")}>
          <ScheduleFields values={values} set={set} error={error} />
        </Section>

        <Section title="Automation" hasProblem={sectionsWithProblems.has("Automation")}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Automatic reply"
              description="Sent to the customer when their email arrives."
              placeholder="None"
              data={options(autoReplies.data?.items, (template) => template.name)}
              value={values.auto_reply_template_id}
              onChange={(value) => set("auto_reply_template_id", value)}
              clearable
              error={error("auto_reply_template_id")}
            />
            <Select
              label="Signature"
              description="Pre-loaded in the agents' replies."
              placeholder="None"
              data={options(signatures.data?.items, (template) => template.name)}
              value={values.signature_template_id}
              onChange={(value) => set("signature_template_id", value)}
              clearable
              error={error("signature_template_id")}
            />
          </SimpleGrid>
        </Section>

        <Section title="Qualification" hasProblem={sectionsWithProblems.has("Qualification")}>
          <Switch
            label="Ask customers to rate the answer"
            checked={values.qualification_enabled}
            onChange={(event) => set("qualification_enabled", event.currentTarget.checked)}
          />
          {values.qualification_enabled && (
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="sm">
              <TextInput
                label="Motivation text"
                value={values.motivation_text}
                onChange={(event) => set("motivation_text", event.currentTarget.value)}
                error={error("qualification.motivation_text")}
              />
              <Textarea
                label="Thank-you message"
                autosize
                value={values.thank_you_message}
                onChange={(event) => set("thank_you_message", event.currentTarget.value)}
                error={error("qualification.thank_you_message")}
              />
            </SimpleGrid>
          )}
        </Section>

        <Section title="Flags" hasProblem={sectionsWithProblems.has("Flags")}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {flag("allow_free_format", "Allow free-format emails", "Otherwise agents must start from one of the campaign's templates.")}
            {flag("require_address_confirmation", "Require email address confirmation", "Agents confirm addresses that look invalid.")}
            {flag("allow_put_back", "Allow put back to queue")}
            {flag("allow_move", "Allow move to another campaign")}
            {flag("allow_drafts", "Allow save as a draft")}
          </SimpleGrid>
        </Section>

        <Group justify="flex-end">
          <Button variant="subtle" component={Link} to={campaign ? `/campaigns/${campaign.id}` : "/campaigns"}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {campaign ? "Save campaign" : "Create campaign"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const WEEKDAY_LABEL = (day: Weekday) => day[0].toUpperCase() + day.slice(1);

function ScheduleFields({
  values,
  set,
  error,
}: {
  values: CampaignFormValues;
  set: <K extends keyof CampaignFormValues>(key: K, value: CampaignFormValues[K]) => void;
  error: (field: string) => string | undefined;
}) {
  const windows = values.windows;
  const exceptions = values.exceptions;
  const rowError = (prefix: string, index: number) =>
    error(`${prefix}.${index}`) ??
    Object.entries({ day: 0, opens: 0, closes: 0, weekday: 0 })
      .map(([field]) => error(`${prefix}.${index}.${field}`))
      .find(Boolean);
  return (
    <Stack>
      <TextInput
        label="Time zone"
        description="IANA name, e.g. Europe/Madrid."
        value={values.schedule_timezone}
        onChange={(event) => set("schedule_timezone", event.currentTarget.value)}
        error={error("schedule_timezone") ?? error("timezone")}
        w={300}
      />
      <div>
        <Text size="sm" fw={500}>
          Opening hours
        </Text>
        <Text size="xs" c="dimmed" mb="xs">
          No hours means always open. 00:00–00:00 is a whole day.
        </Text>
        {error("windows") && (
          <Text size="sm" c="red">
            {error("windows")}
          </Text>
        )}
        <Stack gap="xs">
          {windows.map((window, index) => (
            <Group key={index} align="flex-start">
              <Select
                aria-label={`Weekday of opening hours ${index + 1}`}
                data={WEEKDAYS.map((day) => ({ value: day, label: WEEKDAY_LABEL(day) }))}
                value={window.weekday}
                onChange={(value) => value && set("windows", windows.map((w, i) => (i === index ? { ...w, weekday: value as Weekday } : w)))}
                allowDeselect={false}
                w={150}
              />
              <TextInput
                type="time"
                aria-label={`Opens, opening hours ${index + 1}`}
                value={window.opens}
                onChange={(event) => {
                  const opens = event.currentTarget.value;
                  set("windows", windows.map((w, i) => (i === index ? { ...w, opens } : w)));
                }}
              />
              <TextInput
                type="time"
                aria-label={`Closes, opening hours ${index + 1}`}
                value={window.closes}
                onChange={(event) => {
                  const closes = event.currentTarget.value;
                  set("windows", windows.map((w, i) => (i === index ? { ...w, closes } : w)));
                }}
                error={rowError("windows", index)}
              />
              <ActionIcon variant="subtle" color="red" mt={6} aria-label={`Remove opening hours ${index + 1}`} onClick={() => set("windows", windows.filter((_, i) => i !== index))}>
                ✕
              </ActionIcon>
            </Group>
          ))}
        </Stack>
        <Button
          variant="light"
          size="xs"
          mt="xs"
          onClick={() => set("windows", [...windows, { weekday: WEEKDAYS[windows.length % 7], opens: "09:00", closes: "17:00" }])}
        >
          Add opening hours
        </Button>
      </div>
      <div>
        <Text size="sm" fw={500} mb="xs">
          Special days
        </Text>
        <Stack gap="xs">
          {exceptions.map((day, index) => (
            <Group key={index} align="flex-start">
              <TextInput
                type="date"
                aria-label={`Date of special day ${index + 1}`}
                value={day.day}
                onChange={(event) => {
                  const value = event.currentTarget.value;
                  set("exceptions", exceptions.map((d, i) => (i === index ? { ...d, day: value } : d)));
                }}
              />
              <TextInput
                type="time"
                aria-label={`Opens, special day ${index + 1}`}
                value={day.opens}
                onChange={(event) => {
                  const opens = event.currentTarget.value;
                  set("exceptions", exceptions.map((d, i) => (i === index ? { ...d, opens } : d)));
                }}
              />
              <TextInput
                type="time"
                aria-label={`Closes, special day ${index + 1}`}
                value={day.closes}
                onChange={(event) => {
                  const closes = event.currentTarget.value;
                  set("exceptions", exceptions.map((d, i) => (i === index ? { ...d, closes } : d)));
                }}
              />
              <TextInput
                aria-label={`Description of special day ${index + 1}`}
                placeholder="Closed all day if no hours"
                value={day.description}
                onChange={(event) => {
                  const description = event.currentTarget.value;
                  set("exceptions", exceptions.map((d, i) => (i === index ? { ...d, description } : d)));
                }}
                error={rowError("exceptions", index)}
              />
              <ActionIcon variant="subtle" color="red" mt={6} aria-label={`Remove special day ${index + 1}`} onClick={() => set("exceptions", exceptions.filter((_, i) => i !== index))}>
                ✕
              </ActionIcon>
            </Group>
          ))}
        </Stack>
        <Button variant="light" size="xs" mt="xs" onClick={() => set("exceptions", [...exceptions, { day: "", opens: "", closes: "", description: "" }])}>
          Add special day
        </Button>
      </div>
    </Stack>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm">{children}</Text>
    </div>
  );
}

function CampaignDetailsView() {
  const { campaignId } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [deleting, setDeleting] = useState(false);
  const details = useQuery({
    queryKey: ["campaigns", campaignId, "details"],
    queryFn: () => must(api.GET("/api/campaigns/{campaign_id}/details", { params: { path: { campaign_id: campaignId! } } })),
  });
  const remove = useMutation({
    mutationFn: () => must(api.DELETE("/api/campaigns/{campaign_id}", { params: { path: { campaign_id: campaignId! } } })),
    onSuccess: () => {
      notify("Campaign deleted.");
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      navigate("/campaigns");
    },
  });
  return (
    <QueryState query={details} label="the campaign">
      {(d) => {
        const c = d.campaign;
        const flags = [
          [c.allow_free_format, "free-format emails"],
          [c.require_address_confirmation, "address confirmation"],
          [c.allow_put_back, "put back"],
          [c.allow_move, "move"],
          [c.allow_drafts, "drafts"],
        ] as const;
        return (
          <>
            <PageHeader
              title={c.title}
              description={c.description || undefined}
              actions={
                <>
                  <Button variant="default" component={Link} to="/campaigns/members">
                    Members ({d.member_count})
                  </Button>
                  <Button variant="subtle" color="red" onClick={() => { remove.reset(); setDeleting(true); }}>
                    Delete
                  </Button>
                  <Button component={Link} to="edit">
                    Edit
                  </Button>
                </>
              }
            />
            <Stack>
              <Paper withBorder p="lg" radius="md">
                <SimpleGrid cols={{ base: 2, sm: 4 }}>
                  <Fact label="State">
                    <Badge color={c.enabled ? "green" : "gray"} variant="light">
                      {c.enabled ? "Enabled" : "Disabled"}
                    </Badge>{" "}
                    <Badge color={d.open_now ? "teal" : "orange"} variant="light">
                      {d.open_now ? "Open now" : "Closed now"}
                    </Badge>
                  </Fact>
                  <Fact label="Group">{d.group_name ?? "—"}</Fact>
                  <Fact label="Email server">{d.email_server_name ?? "Company default"}</Fact>
                  <Fact label="Receives email">{c.receive_emails ? "Yes" : "No"}</Fact>
                  <Fact label="Service level">{formatSeconds(c.service_level_seconds)}</Fact>
                  <Fact label="Routing">{STRATEGIES.find((s) => s.value === c.strategy)?.label}</Fact>
                  <Fact label="Automatic reply">{d.auto_reply_template_name ?? "None"}</Fact>
                  <Fact label="Signature">{d.signature_template_name ?? "None"}</Fact>
                </SimpleGrid>
                <Group gap="xs" mt="md">
                  {flags.map(([on, label]) => (
                    <Badge key={label} variant={on ? "light" : "outline"} color={on ? "indigo" : "gray"}>
                      {on ? "" : "no "}
                      {label}
                    </Badge>
                  ))}
                </Group>
              </Paper>
              <Paper withBorder radius="md" p="lg">
                <Group justify="space-between" mb="sm">
                  <Title order={4}>Templates</Title>
                  <Button size="xs" variant="light" component={Link} to={`/templates/new?campaign=${c.id}`}>
                    New template for this campaign
                  </Button>
                </Group>
                {d.templates.length === 0 ? (
                  <Text c="dimmed" size="sm">
                    No template is assigned to this campaign yet.
                  </Text>
                ) : (
                  <Table aria-label="Campaign templates">
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Name</Table.Th>
                        <Table.Th>Subject</Table.Th>
                        <Table.Th>Kind</Table.Th>
                        <Table.Th>Added on</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.templates.map((template) => (
                        <Table.Tr key={template.id}>
                          <Table.Td>
                            <Anchor component={Link} to={`/templates/${template.id}`}>
                              {template.name}
                            </Anchor>
                            {template.all_campaigns && (
                              <Badge size="xs" ml="xs" variant="outline">
                                all campaigns
                              </Badge>
                            )}
                          </Table.Td>
                          <Table.Td>{template.subject || "—"}</Table.Td>
                          <Table.Td>{template.kind.replace("_", " ")}</Table.Td>
                          <Table.Td>{formatDate(template.added_on)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                )}
              </Paper>
              <Text size="xs" c="dimmed">
                Created {formatDateTime(c.created_at)} · updated {formatDateTime(c.updated_at)}
              </Text>
            </Stack>
            <ConfirmDeleteModal
              opened={deleting}
              onClose={() => setDeleting(false)}
              what="campaign"
              name={c.title}
              consequence="Its schedule and memberships are removed with it."
              onConfirm={() => remove.mutate()}
              busy={remove.isPending}
              error={remove.error}
            />
          </>
        );
      }}
    </QueryState>
  );
}
