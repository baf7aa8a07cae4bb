// Campaign members: add or remove several agents to or from several campaigns at once.
import { Alert, Button, Group, MultiSelect, Paper, Stack, Table } from "@mantine/core";
import { useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../../api";
import { notify } from "../../components/notify";
import { DataTable, EmptyState, PageHeader, QueryState } from "../../components/ui";
import { describeError } from "../../errors";
import { must } from "../../lib/http";
import { options, useCampaignOptions, useUsers } from "../../lib/queries";
import { CampaignTabs } from "./CampaignsPage";

export function MembersPage() {
  const campaigns = useCampaignOptions();
  const users = useUsers();
  const queryClient = useQueryClient();
  const [campaignIds, setCampaignIds] = useState<string[]>([]);
  const [userIds, setUserIds] = useState<string[]>([]);

  const members = useQueries({
    queries: campaignIds.map((campaignId) => ({
      queryKey: ["campaigns", campaignId, "members"],
      queryFn: () => must(api.GET("/api/campaigns/{campaign_id}/members", { params: { path: { campaign_id: campaignId } } })),
    })),
  });
  const change = useMutation({
    mutationFn: (action: "add" | "remove") =>
      must(
        api.POST("/api/campaigns/memberships", {
          body: { campaign_ids: campaignIds, add_user_ids: action === "add" ? userIds : [], remove_user_ids: action === "remove" ? userIds : [] },
        }),
      ),
    onSuccess: (_, action) => {
      notify(action === "add" ? "Agents added to the campaigns." : "Agents removed from the campaigns.");
      for (const campaignId of campaignIds) void queryClient.invalidateQueries({ queryKey: ["campaigns", campaignId] });
    },
  });

  const userName = (id: string) => users.data?.items.find((user) => user.id === id)?.name ?? id.slice(0, 8);
  const campaignTitle = (id: string) => campaigns.data?.items.find((campaign) => campaign.id === id)?.title ?? "";
  // Rows: the chosen agents plus everyone already in a chosen campaign.
  const rowIds = Array.from(new Set([...userIds, ...members.flatMap((query) => (query.data ?? []).map((member) => member.user_id))]));
  const isMember = (campaignIndex: number, userId: string) => members[campaignIndex]?.data?.some((member) => member.user_id === userId);

  return (
    <>
      <PageHeader title="Campaigns" description="Choose campaigns and agents, then add or remove them in one step." />
      <CampaignTabs />
      <QueryState query={campaigns} label="campaigns">
        {() => (
          <Stack>
            <Paper withBorder p="lg" radius="md">
              <Group grow align="flex-start">
                <MultiSelect
                  label="Campaigns"
                  placeholder="Choose campaigns"
                  data={options(campaigns.data?.items, (campaign) => campaign.title)}
                  value={campaignIds}
                  onChange={setCampaignIds}
                  searchable
                  error={describeErrorField(change.error, "campaign_ids")}
                />
                <MultiSelect
                  label="Agents"
                  placeholder="Choose agents"
                  data={options(users.data?.items, (user) => `${user.name} (${user.role})`)}
                  value={userIds}
                  onChange={setUserIds}
                  searchable
                  error={describeErrorField(change.error, "add_user_ids") ?? describeErrorField(change.error, "remove_user_ids")}
                />
              </Group>
              {change.isError && (
                <Alert color="red" mt="md" role="alert">
                  {describeError(change.error).message}
                </Alert>
              )}
              <Group justify="flex-end" mt="md">
                <Button
                  variant="default"
                  color="red"
                  disabled={!campaignIds.length || !userIds.length}
                  loading={change.isPending && change.variables === "remove"}
                  onClick={() => change.mutate("remove")}
                >
                  Remove from campaigns
                </Button>
                <Button disabled={!campaignIds.length || !userIds.length} loading={change.isPending && change.variables === "add"} onClick={() => change.mutate("add")}>
                  Add to campaigns
                </Button>
              </Group>
            </Paper>
            {campaignIds.length === 0 ? (
              <EmptyState>Choose one or more campaigns to see their members.</EmptyState>
            ) : (
              <DataTable
                label="Memberships"
                columns={["Agent", ...campaignIds.map(campaignTitle)]}
                rows={rowIds}
                emptyRow="These campaigns have no members yet."
                spacing="xs"
                renderRow={(userId) => (
                  <Table.Tr key={userId}>
                    <Table.Td>{userName(userId)}</Table.Td>
                    {campaignIds.map((campaignId, index) => (
                      <Table.Td key={campaignId} aria-label={isMember(index, userId) ? "member" : "not a member"}>
                        {isMember(index, userId) ? "✓ member" : "—"}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                )}
              />
            )}
          </Stack>
        )}
      </QueryState>
    </>
  );
}

function describeErrorField(error: unknown, field: string): string | undefined {
  return error ? describeError(error).fields[field] : undefined;
}
