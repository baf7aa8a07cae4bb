// Email supervision: each campaign's queue and service level, each agent's status, and the customers waiting.
// Live: the event stream invalidates these queries (events.ts), and a slow refetch covers anything missed.
import { Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";

import { api, type Schemas } from "../../api";
import { DataTable, NameCell, PagedTable, PageHeader, QueryState, SearchInput } from "../../components/ui";
import { formatSeconds } from "../../lib/format";
import { definedParams, must } from "../../lib/http";
import {
  type AgentStatus,
  elapsedSeconds,
  formatLoad,
  formatPercent,
  serviceLevelTone,
  STATUS_COLOR,
  STATUS_LABEL,
  statusCounts,
  TONE_COLOR,
  waitTone,
} from "./supervision";

type CampaignRow = Schemas["CampaignSupervision"];
type AgentRow = Schemas["AgentSupervision"];

// Events keep the boards current; this only catches what a dropped connection missed.
const REFETCH_MS = 30_000;
const WAITING_PAGE_SIZE = 20;

/** The browser's clock, ticking each second so waits and times in status move between refreshes. */
function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function useCampaignsBoard() {
  return useQuery({
    queryKey: ["supervision", "campaigns"],
    queryFn: () => must(api.GET("/api/supervision/campaigns")),
    refetchInterval: REFETCH_MS,
  });
}

function useAgentsBoard() {
  return useQuery({
    queryKey: ["supervision", "agents"],
    queryFn: () => must(api.GET("/api/supervision/agents")),
    refetchInterval: REFETCH_MS,
  });
}

function duration(seconds: number | null): string {
  return seconds === null ? "—" : formatSeconds(seconds);
}

export function SupervisionPage() {
  const queryClient = useQueryClient();
  const campaigns = useCampaignsBoard();
  const agents = useAgentsBoard();
  const now = useNow();
  const updatedAt = Math.max(campaigns.dataUpdatedAt, agents.dataUpdatedAt);
  return (
    <Stack gap="xl">
      <PageHeader
        title="Supervision"
        description="Email campaigns and agents in real time."
        actions={
          <>
            {updatedAt > 0 && (
              <Text size="sm" c="dimmed" data-testid="updated-at">
                Updated {new Date(updatedAt).toLocaleTimeString()}
              </Text>
            )}
            <Button variant="default" size="xs" onClick={() => void queryClient.invalidateQueries({ queryKey: ["supervision"] })}>
              Refresh
            </Button>
          </>
        }
      />
      <section aria-labelledby="campaigns-heading">
        <Title order={3} id="campaigns-heading" mb="sm">
          Campaigns
        </Title>
        <QueryState query={campaigns} label="campaigns" isEmpty={(board) => board.campaigns.length === 0} empty="No campaign yet.">
          {(board) => <CampaignsTable board={board} receivedAt={campaigns.dataUpdatedAt} now={now} />}
        </QueryState>
      </section>
      <section aria-labelledby="agents-heading">
        <Title order={3} id="agents-heading" mb="sm">
          Agents
        </Title>
        <QueryState query={agents} label="agents" isEmpty={(board) => board.agents.length === 0} empty="No agent yet.">
          {(board) => <AgentsTable board={board} receivedAt={agents.dataUpdatedAt} now={now} />}
        </QueryState>
      </section>
      <section aria-labelledby="waiting-heading">
        <Title order={3} id="waiting-heading" mb="sm">
          Waiting customers
        </Title>
        <WaitingCustomers campaigns={campaigns.data?.campaigns ?? []} now={now} />
      </section>
    </Stack>
  );
}

function CampaignsTable({ board, receivedAt, now }: { board: Schemas["CampaignsBoard"]; receivedAt: number; now: number }) {
  const target = board.service_level_target_percent;
  const waiting = board.campaigns.reduce((sum, c) => sum + c.queued + c.backlog, 0);
  const inProgress = board.campaigns.reduce((sum, c) => sum + c.in_progress, 0);
  const closed = board.campaigns.reduce((sum, c) => sum + c.closed_today, 0);
  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Waiting" value={waiting} testId="total-waiting" />
        <Stat label="In progress" value={inProgress} testId="total-in-progress" />
        <Stat label="Closed today" value={closed} testId="total-closed-today" />
        <Stat label="Service level target" value={`${target} %`} hint="answered within each campaign's period" />
      </SimpleGrid>
      <DataTable
        label="Campaigns"
        columns={[
          "Campaign",
          { label: "Queued", numeric: true },
          { label: "Backlog", numeric: true },
          "Longest wait",
          { label: "In progress", numeric: true },
          { label: "Closed today", numeric: true },
          "Service level today",
          { label: "Agents logged in", numeric: true },
        ]}
        rows={board.campaigns}
        minWidth={900}
        renderRow={(campaign) => (
          <CampaignTableRow key={campaign.campaign_id} campaign={campaign} target={target} asOf={board.as_of} receivedAt={receivedAt} now={now} />
        )}
      />
    </Stack>
  );
}

function Stat({ label, value, hint, testId }: { label: string; value: number | string; hint?: string; testId?: string }) {
  return (
    <Paper withBorder radius="md" p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

function CampaignTableRow({ campaign, target, asOf, receivedAt, now }: { campaign: CampaignRow; target: number; asOf: string; receivedAt: number; now: number }) {
  const wait = elapsedSeconds(campaign.oldest_waiting_since, asOf, receivedAt, now);
  const waitColor = TONE_COLOR[waitTone(wait, campaign.warning_threshold_seconds, campaign.critical_threshold_seconds)];
  const slTone = serviceLevelTone(campaign.service_level_percent, target);
  return (
    <Table.Tr data-testid={`campaign-${campaign.title}`}>
      <NameCell name={campaign.title} tag={!campaign.enabled && "disabled"} />
      <Table.Td ta="right" data-testid="queued">
        {campaign.queued}
      </Table.Td>
      <Table.Td ta="right" data-testid="backlog">
        {campaign.backlog}
      </Table.Td>
      <Table.Td data-testid="longest-wait">
        <Text size="sm" c={wait === null ? "dimmed" : waitColor} fw={wait === null ? undefined : 600}>
          {duration(wait)}
        </Text>
      </Table.Td>
      <Table.Td ta="right" data-testid="in-progress">
        {campaign.in_progress}
      </Table.Td>
      <Table.Td ta="right" data-testid="closed-today">
        {campaign.closed_today}
      </Table.Td>
      <Table.Td data-testid="service-level">
        <Group gap="xs" wrap="nowrap">
          <Badge color={TONE_COLOR[slTone]} variant={slTone === "none" ? "outline" : "light"} data-tone={slTone}>
            {formatPercent(campaign.service_level_percent)}
          </Badge>
          <Text size="xs" c="dimmed">
            {campaign.answered_in_time_today} of {campaign.service_level_counted_today} within {formatSeconds(campaign.service_level_seconds)}
          </Text>
        </Group>
      </Table.Td>
      <Table.Td ta="right" data-testid="agents-logged-in">
        {campaign.agents_logged_in} / {campaign.members}
      </Table.Td>
    </Table.Tr>
  );
}

function AgentsTable({ board, receivedAt, now }: { board: Schemas["AgentsBoard"]; receivedAt: number; now: number }) {
  const [search, setSearch] = useState("");
  const [status, setStatus] = useState<AgentStatus | null>(null);
  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return board.agents.filter(
      (agent) =>
        (status === null || agent.status === status) &&
        (needle === "" || agent.name.toLowerCase().includes(needle) || agent.email.toLowerCase().includes(needle)),
    );
  }, [board.agents, search, status]);
  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap">
        <Group gap="xs" role="group" aria-label="Agents by status">
          {statusCounts(board.agents).map(({ status: each, count }) => (
            <Badge key={each} color={STATUS_COLOR[each]} variant={count ? "light" : "outline"} data-testid={`count-${each}`}>
              {STATUS_LABEL[each]}: {count}
            </Badge>
          ))}
        </Group>
        <Group>
          <SearchInput value={search} onChange={setSearch} label="Search agents" placeholder="Name or email" />
          <Select
            aria-label="Status"
            placeholder="All statuses"
            data={(Object.keys(STATUS_LABEL) as AgentStatus[]).map((value) => ({ value, label: STATUS_LABEL[value] }))}
            value={status}
            onChange={(value) => setStatus(value as AgentStatus | null)}
            clearable
            w={180}
          />
        </Group>
      </Group>
      <DataTable
        label="Agents"
        columns={["Status", "Agent", "Time in status", { label: "Interactions", numeric: true }, "Campaigns"]}
        rows={shown}
        emptyRow="No agent matches."
        minWidth={760}
        renderRow={(agent) => <AgentTableRow key={agent.user_id} agent={agent} asOf={board.as_of} receivedAt={receivedAt} now={now} />}
      />
    </Stack>
  );
}

function AgentTableRow({ agent, asOf, receivedAt, now }: { agent: AgentRow; asOf: string; receivedAt: number; now: number }) {
  const inStatus = elapsedSeconds(agent.since, asOf, receivedAt, now);
  return (
    <Table.Tr data-testid={`agent-${agent.name}`}>
      <Table.Td>
        <Badge color={STATUS_COLOR[agent.status]} variant="filled" data-testid="status">
          {STATUS_LABEL[agent.status]}
        </Badge>
        {agent.break_reason && (
          <Text size="xs" c="dimmed" mt={2} data-testid="break-reason">
            {agent.break_reason}
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <Text size="sm" fw={500}>
          {agent.name}
        </Text>
        <Text size="xs" c="dimmed">
          {agent.email}
          {agent.role !== "agent" ? ` · ${agent.role}` : ""}
        </Text>
      </Table.Td>
      <Table.Td>{inStatus === null ? "—" : formatSeconds(inStatus)}</Table.Td>
      <Table.Td ta="right" data-testid="load" title="Interactions held / the most routing gives this agent">
        {formatLoad(agent.interactions_held, agent.capacity)}
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {agent.campaigns.length === 0 && (
            <Text size="sm" c="dimmed">
              none
            </Text>
          )}
          {agent.campaigns.map((campaign) => (
            <Badge key={campaign.id} variant="outline" color="gray" size="sm" tt="none">
              {campaign.title}
            </Badge>
          ))}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

function WaitingCustomers({ campaigns, now }: { campaigns: CampaignRow[]; now: number }) {
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const waiting = useQuery({
    queryKey: ["supervision", "waiting", { campaignId, offset }],
    placeholderData: keepPreviousData,
    refetchInterval: REFETCH_MS,
    queryFn: () =>
      must(api.GET("/api/supervision/waiting", { params: { query: definedParams({ campaign_id: campaignId, offset, limit: WAITING_PAGE_SIZE }) } })),
  });
  return (
    <Stack gap="sm">
      <Group>
        <Select
          aria-label="Campaign"
          placeholder="All campaigns"
          data={campaigns.map((c) => ({ value: c.campaign_id, label: c.title }))}
          value={campaignId}
          onChange={(value) => {
            setCampaignId(value);
            setOffset(0);
          }}
          clearable
          searchable
          w={260}
        />
      </Group>
      <PagedTable
        query={waiting}
        empty="Nobody is waiting."
        onOffset={setOffset}
        label="Waiting customers"
        columns={["Customer", "Subject", "Campaign", "Where", "On hold"]}
        spacing="xs"
        minWidth={760}
        renderRow={(item) => {
          const campaign = campaigns.find((c) => c.campaign_id === item.campaign_id);
          const seconds = item.waiting_seconds + Math.max(0, Math.floor((now - waiting.dataUpdatedAt) / 1000));
          const tone = campaign ? waitTone(seconds, campaign.warning_threshold_seconds, campaign.critical_threshold_seconds) : "none";
          return (
            <Table.Tr key={item.interaction_id}>
              <Table.Td>
                <Text size="sm">{item.customer_email}</Text>
                {item.customer_name && (
                  <Text size="xs" c="dimmed">
                    {item.customer_name}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" lineClamp={1}>
                  {item.subject || "(no subject)"}
                </Text>
              </Table.Td>
              <Table.Td>{item.campaign_title}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={item.state === "backlog" ? "grape" : "blue"}>
                  {item.state === "backlog" ? "backlog" : "queue"}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c={TONE_COLOR[tone]} fw={600}>
                  {formatSeconds(seconds)}
                </Text>
              </Table.Td>
            </Table.Tr>
          );
        }}
      />
    </Stack>
  );
}
