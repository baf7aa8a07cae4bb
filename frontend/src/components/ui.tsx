// Building blocks every screen shares, so lists, forms and states look and behave the same everywhere.
import {
  Alert,
  Button,
  Center,
  Group,
  Loader,
  Modal,
  Pagination,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import { type ReactNode, useEffect, useState } from "react";

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
