// The live event stream (/api/events/ws): reconnects with backoff, invalidates affected queries.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { tokenStore } from "./api";

export interface ServerEvent {
  type: string;
  data: Record<string, unknown>;
}

// Which cached queries an event makes stale (by query-key prefix).
export const INVALIDATES: Record<string, string[][]> = {
  "user.created": [["users"], ["supervision"]],
  "user.updated": [["users"], ["me"], ["supervision"]],
  "email_server.changed": [["email-servers"]],
  "campaign.changed": [["campaigns"], ["agents", "me", "campaigns"], ["supervision"]],
  "template.changed": [["templates"], ["agents", "me", "campaigns"]],
  "system.job_check.completed": [["system"]],
  "agent.presence": [["presence"], ["supervision"]],
  "break_reason.changed": [["break-reasons"]],
  // The workspace: the tray, search results and an open conversation follow every change.
  "interaction.created": [["tray"], ["interactions"], ["supervision"]],
  "interaction.queued": [["tray"], ["interactions"], ["supervision"]],
  "interaction.offered": [["tray"]],
  "interaction.offer_withdrawn": [["tray"]],
  "interaction.assigned": [["tray"], ["interactions"], ["supervision"]],
  "interaction.removed": [["tray"], ["interactions"]],
  "interaction.read": [["tray"]],
  "interaction.message_received": [["tray"], ["interactions"], ["conversation"], ["supervision"]],
  // Supervision follows every queue and tray change (supervisors receive these for the whole company).
  "interaction.put_back": [["supervision"]],
  "interaction.moved": [["supervision"]],
  "interaction.closed": [["supervision"]],
  "queue.changed": [["supervision"]],
  "inbound.quarantined": [["inbound"]],
  // Delivery results reach the author's open conversation (sending → sent / failed / retrying).
  "message.sent": [["conversation"]],
  "message.failed": [["conversation"]],
  "message.retry_scheduled": [["conversation"]],
};

export function useEventStream(onEvent?: (event: ServerEvent) => void) {
  const queryClient = useQueryClient();
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    let socket: WebSocket | null = null;
    let retry = 0;
    let timer: number | undefined;
    let closed = false;

    const connect = () => {
      const token = tokenStore.get();
      if (!token || closed) return;
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${window.location.host}/api/events/ws?token=${encodeURIComponent(token)}`);
      socket.onopen = () => {
        retry = 0;
      };
      socket.onmessage = (message) => {
        const event = parseEvent(message.data);
        if (!event || event.type === "ping") return;
        for (const key of INVALIDATES[event.type] ?? []) {
          void queryClient.invalidateQueries({ queryKey: key });
        }
        handler.current?.(event);
      };
      socket.onclose = (close) => {
        if (closed || close.code === 4401) return;
        retry = Math.min(retry + 1, 6);
        // Jitter spreads the reconnects of many agents' browsers after a server restart.
        timer = window.setTimeout(connect, 500 * 2 ** retry * (0.75 + Math.random() / 2));
      };
    };
    connect();
    return () => {
      closed = true;
      window.clearTimeout(timer);
      socket?.close();
    };
  }, [queryClient]);
}

// A malformed frame is dropped rather than breaking the stream for every later event.
export function parseEvent(raw: unknown): ServerEvent | null {
  if (typeof raw !== "string") return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === "object" && value !== null && typeof (value as ServerEvent).type === "string") {
      return value as ServerEvent;
    }
  } catch {
    // fall through
  }
  return null;
}
