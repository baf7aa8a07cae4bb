// Building blocks every screen shares, so lists, forms and states look and behave the same everywhere.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Center,
  Group,
  Loader,
  Modal,
  Pagination,
  type MantineSpacing,
  Paper,
  ScrollArea,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";
import { Link } from "react-router-dom";

import { describeError, type FormProblems } from "../errors";

export function PageHeader({ title, description, actions }: { title: string; description?: ReactNode; actions?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-start" mb="lg" wrap="wrap">
      <div>
        <Title order={2}>{title}</Title>
        {description && (
          <Text c="dimmed" size="sm" mt={4}>
            {description}
          </Text>
        )}
      </div>
      {actions && <Group gap="sm">{actions}</Group>}
    </Group>
  );
}

export function ErrorAlert({ error, title = "Something went wrong", onRetry }: { error: unknown; title?: string; onRetry?: () => void }) {
  return (
    <Alert color="red" role="alert" title={title}>
      <Stack gap="xs">
        <Text size="sm">{describeError(error).message}</Text>
        {onRetry && (
          <Group>
            <Button size="xs" variant="white" color="red" onClick={onRetry}>
              Try again
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

/** The summary above a form: the API's (or the client's) message and any field the form does not show. */
export function FormAlert({ problems, extra = [] }: { problems: FormProblems | null; extra?: string[] }) {
  if (!problems) return null;
  return (
    <Alert color="red" role="alert" title="Could not save">
      <Text size="sm">{problems.message}</Text>
      {extra.map((line) => (
        <Text size="sm" key={line}>
          {line}
        </Text>
      ))}
    </Alert>
  );
}

/** Loading, error and empty states around a query's content. */
export function QueryState<T>({
  query,
  label,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  label: string;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) {
    return (
      <Center py="xl">
        <Loader aria-label={`Loading ${label}`} />
      </Center>
    );
  }
  if (query.isError) return <ErrorAlert error={query.error} title={`Could not load ${label}`} onRetry={() => void query.refetch()} />;
  if (isEmpty?.(query.data) && empty) return <EmptyState>{empty}</EmptyState>;
  return <>{children(query.data)}</>;
}

export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <Paper withBorder p="xl" radius="md" ta="center" data-testid="empty-state">
      <Text c="dimmed">{children}</Text>
    </Paper>
  );
}

/** Page controls under a list: "21–40 of 95" and page buttons. */
export function Pager({ total, offset, limit, onOffset }: { total: number; offset: number; limit: number; onOffset: (offset: number) => void }) {
  if (total === 0) return null;
  const pages = Math.max(1, Math.ceil(total / limit));
  const page = Math.floor(offset / limit) + 1;
  return (
    <Group justify="space-between" mt="md">
      <Text size="sm" c="dimmed">
        {offset + 1}–{Math.min(offset + limit, total)} of {total}
      </Text>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={page}
          onChange={(next) => onOffset((next - 1) * limit)}
          size="sm"
          getControlProps={(control) => ({ "aria-label": `${control} page` })}
        />
      )}
    </Group>
  );
}

/**
 * A table heading: its text, `numeric` to right-align a column of counts, or `ACTIONS_COLUMN` for the column of
 * row buttons, which shows no text but keeps a name for screen readers.
 */
export type Column = string | { label: string; numeric?: boolean; actions?: boolean };
export const ACTIONS_COLUMN: Column = { label: "Actions", actions: true };

function ColumnHeading({ column }: { column: Column }) {
  if (typeof column === "string") return <Table.Th>{column}</Table.Th>;
  if (column.actions) return <Table.Th aria-label={column.label} />;
  return <Table.Th ta={column.numeric ? "right" : undefined}>{column.label}</Table.Th>;
}

export interface DataTableProps<T> {
  /** The table's accessible name (how tests and screen readers find it). */
  label: string;
  columns: Column[];
  rows: T[];
  /** One `<Table.Tr key=…>` per item. */
  renderRow: (item: T, index: number) => ReactNode;
  /** Shown in a row of its own when `rows` is empty, e.g. when a filter leaves nothing. */
  emptyRow?: ReactNode;
  /** Wide tables scroll sideways inside their frame rather than squeezing their columns. */
  minWidth?: number;
  spacing?: MantineSpacing;
  /** For lists whose rows lead somewhere. */
  highlightOnHover?: boolean;
}

/** A framed table: headings, one row per item, and a message row when there is none. */
export function DataTable<T>({ label, columns, rows, renderRow, emptyRow, minWidth, spacing = "sm", highlightOnHover }: DataTableProps<T>) {
  const table = (
    <Table aria-label={label} verticalSpacing={spacing} highlightOnHover={highlightOnHover} miw={minWidth}>
      <Table.Thead>
        <Table.Tr>
          {columns.map((column, index) => (
            <ColumnHeading key={index} column={column} />
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.length === 0 && emptyRow && (
          <Table.Tr>
            <Table.Td colSpan={columns.length}>
              <Text c="dimmed" size="sm" ta="center">
                {emptyRow}
              </Text>
            </Table.Td>
          </Table.Tr>
        )}
        {rows.map(renderRow)}
      </Table.Tbody>
    </Table>
  );
  return <Paper withBorder radius="md">{minWidth ? <ScrollArea type="auto">{table}</ScrollArea> : table}</Paper>;
}

/** A row's name in bold, with a grey tag when the thing is switched off ("inactive", "retired"). */
export function NameCell({ name, tag }: { name: ReactNode; tag?: string | false }) {
  return (
    <Table.Td fw={500}>
      {name}
      {tag && (
        <Badge ml="xs" size="xs" color="gray">
          {tag}
        </Badge>
      )}
    </Table.Td>
  );
}

/** A row's name as a link to the row's own page; `children` add lines under it. */
export function LinkCell({ to, name, children }: { to: string; name: string; children?: ReactNode }) {
  return (
    <Table.Td>
      <Anchor component={Link} to={to} fw={500}>
        {name}
      </Anchor>
      {children}
    </Table.Td>
  );
}

/**
 * A table fed by a query: `what` names the list in the loading and error states ("Loading teams", by default the
 * label in lower case), and `empty` replaces the table when there is nothing to list.
 */
type QueryTableProps<T, Data> = Omit<DataTableProps<T>, "rows"> & { query: UseQueryResult<Data>; what?: string; empty?: ReactNode };

/** A whole list the API returns at once. */
export function ListTable<T>({ query, what, empty, ...table }: QueryTableProps<T, T[]>) {
  return (
    <QueryState query={query} label={what ?? table.label.toLowerCase()} isEmpty={(list) => list.length === 0} empty={empty}>
      {(list) => <DataTable {...table} rows={list} />}
    </QueryState>
  );
}

/** One page of a paginated API list (`{items, total, offset, limit}`). */
export interface Paged<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
}

/** A paginated list: like ListTable, with the Pager under the table; `onOffset` asks for another page. */
export function PagedTable<T>({ query, what, empty, onOffset, ...table }: QueryTableProps<T, Paged<T>> & { onOffset: (offset: number) => void }) {
  return (
    <QueryState query={query} label={what ?? table.label.toLowerCase()} isEmpty={(page) => page.total === 0} empty={empty}>
      {(page) => (
        <>
          <DataTable {...table} rows={page.items} />
          <Pager total={page.total} offset={page.offset} limit={page.limit} onOffset={onOffset} />
        </>
      )}
    </QueryState>
  );
}

/**
 * A dialog holding a small form: the summary of problems, the fields, Cancel and a submit button.
 * Mount it only while it is open, so each opening starts from fresh field state.
 */
export function FormModal({
  title,
  onClose,
  onSubmit,
  problems,
  submitting,
  submitLabel = "Save",
  children,
}: {
  title: string;
  onClose: () => void;
  onSubmit: () => void;
  problems: FormProblems | null;
  submitting: boolean;
  submitLabel?: string;
  children: ReactNode;
}) {
  return (
    <Modal opened onClose={onClose} title={title} centered>
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          onSubmit();
        }}
      >
        <Stack>
          <FormAlert problems={problems} />
          {children}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={submitting}>
              {submitLabel}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** Search box that waits for typing to pause before filtering. */
export function SearchInput({ value, onChange, label = "Search", placeholder }: { value: string; onChange: (value: string) => void; label?: string; placeholder?: string }) {
  const [text, setText] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      if (text !== value) onChange(text);
    }, 300);
    return () => window.clearTimeout(timer);
  }, [text, value, onChange]);
  return (
    <TextInput
      aria-label={label}
      placeholder={placeholder ?? label}
      value={text}
      onChange={(event) => setText(event.currentTarget.value)}
      w={280}
    />
  );
}

/**
 * Deleting something others depend on is irreversible: the user types its name to confirm,
 * and a refusal from the API (409 with what still uses it) is explained in the dialog.
 */
export function ConfirmDeleteModal({
  opened,
  onClose,
  what,
  name,
  consequence,
  onConfirm,
  busy,
  error,
  blockers,
}: {
  opened: boolean;
  onClose: () => void;
  what: string;
  name: string;
  consequence?: ReactNode;
  onConfirm: () => void;
  busy: boolean;
  error: unknown;
  blockers?: ReactNode;
}) {
  const [typed, setTyped] = useState("");
  useEffect(() => {
    if (opened) setTyped("");
  }, [opened]);
  return (
    <Modal opened={opened} onClose={onClose} title={`Delete ${what} “${name}”?`} centered>
      <form noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (typed === name) onConfirm();
        }}
      >
        <Stack>
          {consequence && <Text size="sm">{consequence}</Text>}
          {error ? (
            <Alert color="red" role="alert" title={`The ${what} was not deleted`}>
              <Text size="sm">{describeError(error).message}</Text>
              {blockers}
            </Alert>
          ) : null}
          <TextInput
            label={`Type the ${what}'s name to confirm`}
            description={name}
            value={typed}
            onChange={(event) => setTyped(event.currentTarget.value)}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button color="red" type="submit" disabled={typed !== name} loading={busy}>
              Delete
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A lighter confirmation for reversible removals (a contact, a member). */
export function ConfirmModal({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  onConfirm,
  busy,
  color = "red",
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  busy?: boolean;
  color?: string;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      <Stack>
        {children}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color={color} onClick={onConfirm} loading={busy} data-autofocus>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** A table row's edit and delete buttons, labelled with the row's name (screen readers, tests). */
export function RowActions({
  name,
  onEdit,
  editLabel = "Edit",
  onDelete,
}: {
  name: string;
  onEdit?: () => void;
  editLabel?: string;
  onDelete?: () => void;
}) {
  return (
    <Group gap="xs" justify="flex-end">
      {onEdit && (
        <Button size="xs" variant="light" onClick={onEdit} aria-label={`${editLabel} ${name}`}>
          {editLabel}
        </Button>
      )}
      {onDelete && (
        <Button size="xs" variant="subtle" color="red" onClick={onDelete} aria-label={`Delete ${name}`}>
          Delete
        </Button>
      )}
    </Group>
  );
}
