// Break reasons: the company's list agents pick from when they take a break (the seed's "Pause" reasons).
import { Button, Group, Stack, Switch, Table, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, ConfirmModal, ErrorAlert, FormModal, ListTable, NameCell, PageHeader, RowActions } from "../../components/ui";
import { formProblems } from "../../lib/forms";
import { must } from "../../lib/http";

type BreakReason = Schemas["BreakReasonPublic"];

export function useBreakReasons() {
  return useQuery({ queryKey: ["break-reasons"], queryFn: () => must(api.GET("/api/agents/break-reasons")) });
}

export function BreakReasonsPage() {
  const reasons = useBreakReasons();
  const queryClient = useQueryClient();
  const [renaming, setRenaming] = useState<BreakReason | null>(null);
  const [deleting, setDeleting] = useState<BreakReason | null>(null);
  const toggle = useMutation({
    mutationFn: (reason: BreakReason) =>
      must(api.PATCH("/api/agents/break-reasons/{reason_id}", { params: { path: { reason_id: reason.id } }, body: { active: !reason.active } })),
    onSuccess: (saved) => {
      notify(saved.active ? `“${saved.name}” is offered again.` : `“${saved.name}” is no longer offered.`);
      void queryClient.invalidateQueries({ queryKey: ["break-reasons"] });
    },
  });
  const remove = useMutation({
    mutationFn: (reason: BreakReason) => must(api.DELETE("/api/agents/break-reasons/{reason_id}", { params: { path: { reason_id: reason.id } } })),
    onSuccess: () => {
      setDeleting(null);
      notify("Break reason deleted.");
      void queryClient.invalidateQueries({ queryKey: ["break-reasons"] });
    },
  });
  return (
    <Stack>
      <PageHeader
        title="Break reasons"
        description="What agents choose from when they take a break. Once the list has an offered reason, a break needs one."
      />
      <NewReasonForm />
      {toggle.error ? <ErrorAlert error={toggle.error} title="Could not change the reason" /> : null}
      <ListTable
        query={reasons}
        empty="No break reason yet: agents take breaks without one."
        label="Break reasons"
        columns={["Name", "Offered to agents", ACTIONS_COLUMN]}
        renderRow={(reason) => (
          <Table.Tr key={reason.id} data-testid={`reason-${reason.name}`}>
            <NameCell name={reason.name} tag={!reason.active && "retired"} />
            <Table.Td>
              <Switch
                checked={reason.active}
                onChange={() => toggle.mutate(reason)}
                disabled={toggle.isPending}
                aria-label={`Offer “${reason.name}”`}
              />
            </Table.Td>
            <Table.Td>
              <RowActions name={reason.name} editLabel="Rename" onEdit={() => setRenaming(reason)} onDelete={() => { remove.reset(); setDeleting(reason); }} />
            </Table.Td>
          </Table.Tr>
        )}
      />
      {renaming && <RenameModal reason={renaming} onClose={() => setRenaming(null)} />}
      <ConfirmModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete the break reason “${deleting?.name ?? ""}”?`}
        confirmLabel="Delete"
        onConfirm={() => deleting && remove.mutate(deleting)}
        busy={remove.isPending}
      >
        <Text size="sm">Agents on this break stay on it and keep its name. To stop offering it but keep it listed, switch it off instead.</Text>
        {remove.error ? <ErrorAlert error={remove.error} title="The reason was not deleted" /> : null}
      </ConfirmModal>
    </Stack>
  );
}

function NewReasonForm() {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [checked, setChecked] = useState(false);
  const create = useMutation({
    mutationFn: () => must(api.POST("/api/agents/break-reasons", { body: { name } })),
    onSuccess: (saved) => {
      notify(`Break reason “${saved.name}” added.`);
      setName("");
      setChecked(false);
      void queryClient.invalidateQueries({ queryKey: ["break-reasons"] });
    },
  });
  const blank = name.trim() === "" ? "Give the reason a name." : null;
  const problems = formProblems(checked && blank ? { name: blank } : null, create.error);
  return (
    <form
      noValidate
      aria-label="New break reason"
      onSubmit={(event) => {
        event.preventDefault();
        setChecked(true);
        if (!blank) create.mutate();
      }}
    >
      <Group align="flex-start">
        <TextInput
          label="New break reason"
          placeholder="e.g. Lunch, Training, Meeting"
          value={name}
          onChange={(event) => {
            setName(event.currentTarget.value);
            create.reset();
          }}
          error={problems?.fields.name ?? (problems && !problems.fields.name ? problems.message : undefined)}
          maxLength={100}
          w={320}
        />
        <Button type="submit" mt={25} loading={create.isPending}>
          Add
        </Button>
      </Group>
    </form>
  );
}

function RenameModal({ reason, onClose }: { reason: BreakReason; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(reason.name);
  const save = useMutation({
    mutationFn: () => must(api.PATCH("/api/agents/break-reasons/{reason_id}", { params: { path: { reason_id: reason.id } }, body: { name } })),
    onSuccess: (saved) => {
      notify(`Break reason renamed to “${saved.name}”.`);
      void queryClient.invalidateQueries({ queryKey: ["break-reasons"] });
      onClose();
    },
  });
  const blank = name.trim() === "" ? "Give the reason a name." : null;
  const problems = formProblems(blank ? { name: blank } : null, save.error);
  return (
    <FormModal
      title={`Rename “${reason.name}”`}
      onClose={onClose}
      onSubmit={() => {
        if (!blank) save.mutate();
      }}
      // A blank name is flagged under the field as it happens; the summary is for the API's refusals.
      problems={save.error ? problems : null}
      submitting={save.isPending}
    >
      <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={problems?.fields.name} maxLength={100} data-autofocus />
      <Text size="xs" c="dimmed">
        Agents already on this break keep the name they started it with.
      </Text>
    </FormModal>
  );
}
