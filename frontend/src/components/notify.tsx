// Short-lived confirmations ("Campaign saved") in the corner, announced to screen readers.
import { Notification, Portal, Stack } from "@mantine/core";
import { useSyncExternalStore } from "react";

interface Note {
  id: number;
  message: string;
  color: string;
}

let notes: Note[] = [];
let nextId = 1;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((listener) => listener());

export function notify(message: string, color = "teal") {
  const note = { id: nextId++, message, color };
  notes = [...notes, note];
  emit();
  window.setTimeout(() => dismiss(note.id), 4000);
}

function dismiss(id: number) {
  notes = notes.filter((note) => note.id !== id);
  emit();
}

export function Notifications() {
  const current = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => notes,
  );
  return (
    <Portal>
      <Stack pos="fixed" bottom={16} right={16} w={340} gap="xs" style={{ zIndex: 1000 }} role="status" aria-live="polite">
        {current.map((note) => (
          <Notification key={note.id} color={note.color} onClose={() => dismiss(note.id)} withBorder>
            {note.message}
          </Notification>
        ))}
      </Stack>
    </Portal>
  );
}
