// Campaign groups: named sets of campaigns for reporting and filtering.
import { Button, List, Table, Text, Textarea, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, ConfirmDeleteModal, FormModal, ListTable, PageHeader, RowActions } from "../../components/ui";
import { formatDate } from "../../lib/format";
import { formProblems } from "../../lib/forms";
import { errorExtra, must } from "../../lib/http";
import { useCampaignGroups } from "../../lib/queries";
import { CampaignTabs } from "./CampaignsPage";

type CampaignGroup = Schemas["CampaignGroupPublic"];

export function CampaignGroupsPage() {
  const groups = useCampaignGroups();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<CampaignGroup | "new" | null>(null);
  const [deleting, setDeleting] = useState<CampaignGroup | null>(null);
  const remove = useMutation({
    mutationFn: (group: CampaignGroup) => must(api.DELETE("/api/campaign-groups/{group_id}", { params: { path: { group_id: group.id } } })),
    onSuccess: () => {
      setDeleting(null);
      notify("Campaign group deleted.");
      void queryClient.invalidateQueries({ queryKey: ["campaign-groups"] });
    },
  });
  const dependents = errorExtra<{ name: string; id: string }[]>(remove.error, "dependents") ?? [];

  return (
    <>
      <PageHeader
        title="Campaigns"
        description="Campaign groups gather campaigns for filtering and reports."
        actions={<Button onClick={() => setEditing("new")}>New campaign group</Button>}
      />
      <CampaignTabs />
      <ListTable
        query={groups}
        empty="No campaign group yet."
        label="Campaign groups"
        columns={["Name", "Description", "Created", ACTIONS_COLUMN]}
        renderRow={(group) => (
          <Table.Tr key={group.id}>
            <Table.Td fw={500}>{group.name}</Table.Td>
            <Table.Td>{group.description || "—"}</Table.Td>
            <Table.Td>{formatDate(group.created_at)}</Table.Td>
            <Table.Td>
              <RowActions name={group.name} onEdit={() => setEditing(group)} onDelete={() => { remove.reset(); setDeleting(group); }} />
            </Table.Td>
          </Table.Tr>
        )}
      />
      {editing && <GroupModal group={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        what="campaign group"
        name={deleting?.name ?? ""}
        consequence="A group that still holds campaigns cannot be deleted."
        onConfirm={() => deleting && remove.mutate(deleting)}
        busy={remove.isPending}
        error={remove.error}
        blockers={
          dependents.length > 0 && (
            <List size="sm" mt="xs">
              {dependents.map((campaign) => (
                <List.Item key={campaign.id}>{campaign.name}</List.Item>
              ))}
            </List>
          )
        }
      />
    </>
  );
}

function GroupModal({ group, onClose }: { group: CampaignGroup | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const save = useMutation({
    mutationFn: () =>
      group
        ? must(api.PATCH("/api/campaign-groups/{group_id}", { params: { path: { group_id: group.id } }, body: { name, description } }))
        : must(api.POST("/api/campaign-groups", { body: { name, description } })),
    onSuccess: (saved) => {
      notify(`Campaign group “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["campaign-groups"] });
      onClose();
    },
  });
  const problems = formProblems(null, save.error);
  return (
    <FormModal title={group ? `Edit “${group.name}”` : "New campaign group"} onClose={onClose} onSubmit={() => save.mutate()} problems={problems} submitting={save.isPending}>
      <TextInput label="Name" required value={name} onChange={(event) => setName(event.currentTarget.value)} error={problems?.fields.name} data-autofocus />
      <Textarea label="Description" value={description} onChange={(event) => setDescription(event.currentTarget.value)} error={problems?.fields.description} />
      <Text size="xs" c="dimmed">
        Assign campaigns to the group in each campaign's form.
      </Text>
    </FormModal>
  );
}
