// The agent workspace: presence, the tray of interactions, the conversation and the composer.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Grid,
  Group,
  Indicator,
  Modal,
  Paper,
  ScrollArea,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";

import { api, type Me, type Schemas, tokenStore } from "../../api";
import { notify } from "../../components/notify";
import { SafeHtmlFrame, hasBlockedRemoteImages } from "../../components/SafeHtmlFrame";
import { ConfirmModal, EmptyState, QueryState, SearchInput } from "../../components/ui";
import { describeError, isApiErrorBody } from "../../errors";
import { addressesNeedingConfirmation, confirmationMessage } from "../../lib/addresses";
import { formatDateTime, formatWaiting } from "../../lib/format";
import { must } from "../../lib/http";
import { options, useCampaignOptions } from "../../lib/queries";
import { inlineImageIds, loadInlineImages, substituteInlineImages } from "./inlineImages";

type Summary = Schemas["InteractionSummary"];
type Conversation = Schemas["Conversation"];
type Message = Schemas["MessagePublic"];
type PresenceState = Schemas["PresenceState"];
type WorkspaceCampaign = Schemas["WorkspaceCampaign"];

/** The campaigns the caller works (supervisors: all), with their composer rules, reply templates and signature. */
function useMyCampaigns() {
  return useQuery({ queryKey: ["agents", "me", "campaigns"], queryFn: () => must(api.GET("/api/agents/me/campaigns")) });
}

/** Read-only: the API appends the signature on send, so it is never put in the editable text. */
function SignaturePreview({ signature }: { signature: WorkspaceCampaign["signature"] | undefined }) {
  if (!signature) return null;
  return (
    <Paper withBorder p="xs" radius="sm" bg="gray.0" aria-label="Signature preview">
      <Text size="xs" c="dimmed" mb={4}>
        Signature — added below your text when the email is sent
      </Text>
      <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
        {signature.text_body}
      </Text>
    </Paper>
  );
}

// `me` is part of the page contract; campaign visibility by role is decided by the API.
export function WorkspacePage(_props: { me: Me }) {
  const { "*": rest } = useParams();
  const navigate = useNavigate();
  const selected = rest?.split("/")[0] || null;
  const [search, setSearch] = useState("");
  const [composingNew, setComposingNew] = useState(false);
  const open = useCallback((id: string) => navigate(`/workspace/${id}`), [navigate]);

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>Workspace</Title>
        <Group>
          <Button variant="light" onClick={() => setComposingNew(true)}>
            New email
          </Button>
          <PresenceSelector />
        </Group>
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="sm">
            <SearchInput value={search} onChange={setSearch} label="Search interactions" placeholder="Search subject, customer, reference" />
            {search ? <SearchResults q={search} selected={selected} onOpen={open} /> : <TrayList selected={selected} onOpen={open} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          {selected ? (
            <ConversationView interactionId={selected} key={selected} onDone={() => navigate("/workspace")} />
          ) : (
            <EmptyState>Choose an interaction from your tray.</EmptyState>
          )}
        </Grid.Col>
      </Grid>
      {composingNew && <NewEmailModal onClose={() => setComposingNew(false)} onSent={(id) => { setComposingNew(false); open(id); }} />}
    </Stack>
  );
}

const PRESENCE: Record<PresenceState, { label: string; color: string }> = {
  available: { label: "Available", color: "green" },
  busy: { label: "Busy", color: "orange" },
  break: { label: "On break", color: "yellow" },
  offline: { label: "Offline", color: "gray" },
};

function PresenceSelector() {
  const queryClient = useQueryClient();
  const presence = useQuery({ queryKey: ["presence"], queryFn: () => must(api.GET("/api/agents/me/presence")) });
  const reasons = useQuery({ queryKey: ["break-reasons"], queryFn: () => must(api.GET("/api/agents/break-reasons")) });
  const change = useMutation({
    mutationFn: (value: string) => {
      const [state, reason] = value.split(":") as [PresenceState, string | undefined];
      return must(api.PUT("/api/agents/me/presence", { body: { state, break_reason_id: reason ?? null } }));
    },
    onSuccess: (data) => {
      queryClient.setQueryData(["presence"], data);
      void queryClient.invalidateQueries({ queryKey: ["tray"] });
    },
    onError: (error) => notify(describeError(error).message, "red"),
  });
  const data = [
    { value: "available", label: "Available" },
    { value: "busy", label: "Busy" },
    ...(reasons.data ?? []).filter((r) => r.active).map((r) => ({ value: `break:${r.id}`, label: `Break: ${r.name}` })),
    ...((reasons.data ?? []).some((r) => r.active) ? [] : [{ value: "break", label: "On break" }]),
    { value: "offline", label: "Offline" },
  ];
  const current = presence.data ? (presence.data.state === "break" && presence.data.break_reason_id ? `break:${presence.data.break_reason_id}` : presence.data.state) : null;
  const state = presence.data?.state ?? "offline";
  return (
    <Group gap="xs">
      <Badge color={PRESENCE[state].color} variant="dot" size="lg">
        {PRESENCE[state].label}
      </Badge>
      <Select aria-label="My status" data={data} value={current} onChange={(value) => value && change.mutate(value)} allowDeselect={false} w={200} disabled={presence.isPending} />
    </Group>
  );
}

function InteractionRow({ item, selected, onOpen, action }: { item: Summary; selected: boolean; onOpen: (id: string) => void; action?: React.ReactNode }) {
  return (
    <Paper
      withBorder
      p="sm"
      radius="md"
      bg={selected ? "indigo.0" : undefined}
      data-testid="tray-item"
      aria-current={selected ? "true" : undefined}
    >
      <UnstyledButton onClick={() => onOpen(item.id)} w="100%" aria-label={`Open ${item.subject || "(no subject)"} from ${item.customer_email}${item.unread ? " (unread)" : ""}`}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Indicator disabled={!item.unread} color="indigo" position="middle-start" offset={-8} size={8} label="" aria-hidden>
            <Text size="sm" fw={item.unread ? 700 : 500} lineClamp={1}>
              {item.subject || "(no subject)"}
            </Text>
          </Indicator>
          <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }} title="Waiting time">
            {formatWaiting(item.queued_at ?? item.last_message_at)}
          </Text>
        </Group>
        <Text size="xs" c="dimmed" lineClamp={1}>
          {item.customer_name ? `${item.customer_name} <${item.customer_email}>` : item.customer_email} · {item.campaign_name ?? "—"}
        </Text>
      </UnstyledButton>
      {action}
    </Paper>
  );
}

function TrayList({ selected, onOpen }: { selected: string | null; onOpen: (id: string) => void }) {
  const queryClient = useQueryClient();
  // Live updates come through the event stream; the interval only refreshes waiting times.
  const tray = useQuery({ queryKey: ["tray"], queryFn: () => must(api.GET("/api/agents/me/tray")), refetchInterval: 30_000 });
  const accept = useMutation({
    mutationFn: (id: string) => must(api.POST("/api/interactions/{interaction_id}/accept", { params: { path: { interaction_id: id } } })),
    onSuccess: (item) => {
      void queryClient.invalidateQueries({ queryKey: ["tray"] });
      onOpen(item.id);
    },
    onError: (error) => {
      notify(describeError(error).message, "red");
      void queryClient.invalidateQueries({ queryKey: ["tray"] });
    },
  });
  return (
    <QueryState query={tray} label="your tray">
      {(data) => (
        <Stack gap="xs" aria-label="Tray">
          {data.offers.length > 0 && (
            <>
              <Text size="xs" fw={700} c="dimmed" tt="uppercase">
                Offered to you
              </Text>
              {data.offers.map((item) => (
                <InteractionRow
                  key={item.id}
                  item={item}
                  selected={false}
                  onOpen={() => accept.mutate(item.id)}
                  action={
                    <Button size="xs" mt="xs" onClick={() => accept.mutate(item.id)} loading={accept.isPending && accept.variables === item.id}>
                      Accept
                    </Button>
                  }
                />
              ))}
            </>
          )}
          <Text size="xs" fw={700} c="dimmed" tt="uppercase">
            My interactions ({data.items.length})
          </Text>
          {data.items.length === 0 && <EmptyState>Your tray is empty. New interactions appear here as they are routed to you.</EmptyState>}
          <ScrollArea.Autosize mah="70vh">
            <Stack gap="xs">
              {data.items.map((item) => (
                <InteractionRow key={item.id} item={item} selected={item.id === selected} onOpen={onOpen} />
              ))}
            </Stack>
          </ScrollArea.Autosize>
        </Stack>
      )}
    </QueryState>
  );
}

function SearchResults({ q, selected, onOpen }: { q: string; selected: string | null; onOpen: (id: string) => void }) {
  const results = useQuery({ queryKey: ["interactions", "search", q], queryFn: () => must(api.GET("/api/interactions", { params: { query: { q, limit: 50 } } })) });
  return (
    <QueryState query={results} label="search results" isEmpty={(page) => page.total === 0} empty={`Nothing matches “${q}”.`}>
      {(page) => (
        <Stack gap="xs" aria-label="Search results">
          <Text size="xs" c="dimmed">
            {page.total} found
          </Text>
          {page.items.map((item) => (
            <InteractionRow key={item.id} item={item} selected={item.id === selected} onOpen={onOpen} />
          ))}
        </Stack>
      )}
    </QueryState>
  );
}

/** An attachment of the conversation; it needs the bearer token, so it goes through fetch rather than a plain link. */
function fetchAttachment(interactionId: string, attachmentId: string): Promise<Response> {
  return fetch(`/api/interactions/${interactionId}/attachments/${attachmentId}`, {
    headers: { Authorization: `Bearer ${tokenStore.get() ?? ""}` },
  });
}

async function downloadAttachment(interactionId: string, attachment: Schemas["AttachmentPublic"]) {
  const response = await fetchAttachment(interactionId, attachment.id);
  if (!response.ok) {
    notify(`Could not download ${attachment.filename}.`, "red");
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = attachment.filename;
  link.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const NO_IMAGES: ReadonlyMap<string, string> = new Map();

/**
 * A message's HTML in the sandboxed frame: inline images downloaded and substituted, remote images only once
 * the agent asks (the API then sends the HTML with them, and the frame lets https images in).
 */
export function MessageHtml({ message, interactionId, attachments }: { message: Message; interactionId: string; attachments: Schemas["AttachmentPublic"][] }) {
  const [remoteAsked, setRemoteAsked] = useState(false);
  const remote = useQuery({
    queryKey: ["message-html", interactionId, message.id, "remote-images"],
    queryFn: () =>
      must(
        api.GET("/api/interactions/{interaction_id}/messages/{message_id}/html", {
          params: { path: { interaction_id: interactionId, message_id: message.id }, query: { remote_images: true } },
        }),
      ),
    enabled: remoteAsked,
    staleTime: Infinity,
  });
  const remoteShown = remote.data?.remote_images === true;
  const html = remote.data?.remote_images ? remote.data.html : message.html_body;
  const imageIds = useMemo(() => inlineImageIds(html), [html]);
  const images = useQuery({
    queryKey: ["inline-images", interactionId, message.id, imageIds],
    queryFn: () =>
      loadInlineImages(imageIds, attachments, async (attachmentId) => {
        const response = await fetchAttachment(interactionId, attachmentId);
        return response.ok ? response.arrayBuffer() : null;
      }),
    enabled: imageIds.length > 0,
    staleTime: Infinity,
  });
  const shown = useMemo(() => substituteInlineImages(html, images.data ?? NO_IMAGES), [html, images.data]);
  return (
    <>
      {hasBlockedRemoteImages(message.html_body) && !remoteShown && (
        <Group justify="space-between" mb="xs" p="xs" bg="yellow.0" style={{ borderRadius: 6 }} data-testid="remote-images">
          <Text size="xs">
            {remote.isError || (remote.data && !remoteShown)
              ? "The remote images of this message could not be loaded."
              : "This message has remote images, blocked to protect your privacy."}
          </Text>
          {!remote.data && (
            <Button size="compact-xs" variant="light" loading={remote.isFetching} onClick={() => (remote.isError ? void remote.refetch() : setRemoteAsked(true))}>
              {remote.isError ? "Try again" : "Show them"}
            </Button>
          )}
        </Group>
      )}
      <SafeHtmlFrame html={shown} title={`Message from ${message.from_address}`} allowRemoteImages={remoteShown} height={300} />
    </>
  );
}

function MessageCard({ message, interactionId, attachments }: { message: Message; interactionId: string; attachments: Schemas["AttachmentPublic"][] }) {
  const inbound = message.direction === "inbound";
  const files = message.attachments.filter((a) => !a.inline);
  return (
    <Paper withBorder p="md" radius="md" bg={inbound ? undefined : "gray.0"} aria-label={`Message from ${message.from_address}`} data-testid="message">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <div>
          <Text size="sm" fw={600}>
            {message.from_name ? `${message.from_name} <${message.from_address}>` : message.from_address}
          </Text>
          <Text size="xs" c="dimmed">
            To {message.to.map((a) => a.address).join(", ")}
            {message.cc.length > 0 && ` · Cc ${message.cc.map((a) => a.address).join(", ")}`}
          </Text>
        </div>
        <Group gap="xs">
          <Badge variant="light" color={inbound ? "blue" : "teal"}>
            {message.kind.replace("_", " ")}
          </Badge>
          {message.status !== "received" && message.status !== "sent" && (
            <Badge variant="outline" color={message.status === "failed" ? "red" : "gray"}>
              {message.status}
            </Badge>
          )}
          <Text size="xs" c="dimmed">
            {formatDateTime(message.sent_at ?? message.created_at)}
          </Text>
        </Group>
      </Group>
      {message.last_error && (
        <Alert color="red" mb="xs">
          {message.last_error}
        </Alert>
      )}
      {message.html_body ? (
        <MessageHtml message={message} interactionId={interactionId} attachments={attachments} />
      ) : (
        <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
          {message.text_body}
        </Text>
      )}
      {files.length > 0 && (
        <Group gap="xs" mt="xs" aria-label="Attachments">
          {files.map((attachment) => (
            <Button key={attachment.id} size="xs" variant="default" onClick={() => void downloadAttachment(interactionId, attachment)}>
              📎 {attachment.filename} ({Math.ceil(attachment.size_bytes / 1024)} KB)
            </Button>
          ))}
        </Group>
      )}
    </Paper>
  );
}

type ComposeMode = "reply" | "reply_history" | "forward";

function ConversationView({ interactionId, onDone }: { interactionId: string; onDone: () => void }) {
  const queryClient = useQueryClient();
  const conversation = useQuery({
    queryKey: ["conversation", interactionId],
    queryFn: () => must(api.GET("/api/interactions/{interaction_id}", { params: { path: { interaction_id: interactionId } } })),
  });
  useEffect(() => {
    // Opening marks it read: the tray's unread dot follows.
    if (conversation.data) void queryClient.invalidateQueries({ queryKey: ["tray"] });
  }, [conversation.data, queryClient]);
  const [mode, setMode] = useState<ComposeMode | null>(null);
  const [action, setAction] = useState<"close" | "move" | "put_back" | null>(null);

  return (
    <QueryState query={conversation} label="the conversation">
      {(c) => {
        const rules = c.rules;
        // All of the conversation's attachments: a reply quoting the customer shows their inline images too.
        const attachments = c.messages.flatMap((m) => m.attachments);
        const closed = c.interaction.state === "closed";
        return (
          <Stack gap="sm">
            <Paper withBorder p="md" radius="md">
              <Group justify="space-between" align="flex-start">
                <div>
                  <Title order={3}>{c.interaction.subject || "(no subject)"}</Title>
                  <Text size="sm" c="dimmed">
                    {c.client.client_name ? `${c.client.client_name} <${c.client.client_email}>` : c.client.client_email} · {c.client.campaign_name ?? "No campaign"} ·
                    ref {c.interaction.reference}
                  </Text>
                </div>
                <Badge variant="light">{c.interaction.state}</Badge>
              </Group>
              {!closed && (
                <Group gap="xs" mt="md">
                  <Button size="xs" onClick={() => setMode("reply")}>
                    Reply
                  </Button>
                  <Button size="xs" variant="light" onClick={() => setMode("reply_history")}>
                    Reply with history
                  </Button>
                  <Button size="xs" variant="light" onClick={() => setMode("forward")}>
                    Forward
                  </Button>
                  {rules?.allow_put_back && (
                    <Button size="xs" variant="default" onClick={() => setAction("put_back")}>
                      Put back
                    </Button>
                  )}
                  {rules?.allow_move && (
                    <Button size="xs" variant="default" onClick={() => setAction("move")}>
                      Move
                    </Button>
                  )}
                  <Button size="xs" variant="default" color="red" onClick={() => setAction("close")}>
                    Close
                  </Button>
                </Group>
              )}
              {c.drafts.length > 0 && !mode && (
                <Group gap="xs" mt="sm">
                  <Text size="xs" c="dimmed">
                    Drafts:
                  </Text>
                  {c.drafts.map((draft) => (
                    <Anchor key={draft.id} size="xs" component="button" onClick={() => setMode(draft.kind === "forward" ? "forward" : draft.quote_history ? "reply_history" : "reply")}>
                      {draft.kind} saved {formatDateTime(draft.updated_at)}
                    </Anchor>
                  ))}
                </Group>
              )}
            </Paper>
            {mode && <Composer conversation={c} mode={mode} onClose={() => setMode(null)} key={mode} />}
            <Stack gap="sm" aria-label="Messages">
              {[...c.messages].reverse().map((message) => (
                <MessageCard key={message.id} message={message} interactionId={interactionId} attachments={attachments} />
              ))}
            </Stack>
            {action && <InteractionAction conversation={c} action={action} onClose={() => setAction(null)} onDone={onDone} />}
          </Stack>
        );
      }}
    </QueryState>
  );
}

function InteractionAction({ conversation, action, onClose, onDone }: { conversation: Conversation; action: "close" | "move" | "put_back"; onClose: () => void; onDone: () => void }) {
  const queryClient = useQueryClient();
  const campaigns = useCampaignOptions();
  const [disposition, setDisposition] = useState("Resolved");
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const path = { interaction_id: conversation.interaction.id };
  const expected_version = conversation.interaction.version;
  const run = useMutation({
    mutationFn: () => {
      if (action === "close") return must(api.POST("/api/interactions/{interaction_id}/close", { params: { path }, body: { expected_version, disposition } }));
      if (action === "move") return must(api.POST("/api/interactions/{interaction_id}/move", { params: { path }, body: { expected_version, campaign_id: campaignId ?? "" } }));
      return must(api.POST("/api/interactions/{interaction_id}/put-back", { params: { path }, body: { expected_version } }));
    },
    onSuccess: () => {
      notify(action === "close" ? "Interaction closed." : action === "move" ? "Interaction moved." : "Interaction put back in the queue.");
      void queryClient.invalidateQueries({ queryKey: ["tray"] });
      void queryClient.invalidateQueries({ queryKey: ["conversation"] });
      onClose();
      if (action !== "close") onDone();
    },
  });
  const problems = run.error ? describeError(run.error) : null;
  const title = action === "close" ? "Close the interaction" : action === "move" ? "Move to another campaign" : "Put back in the queue";
  return (
    <ConfirmModal opened onClose={onClose} title={title} confirmLabel={title.split(" ")[0]} onConfirm={() => run.mutate()} busy={run.isPending} color={action === "close" ? "red" : "indigo"}>
      {problems && (
        <Alert color="red" role="alert">
          {problems.message}
        </Alert>
      )}
      {action === "close" && <TextInput label="Disposition" value={disposition} onChange={(e) => setDisposition(e.currentTarget.value)} error={problems?.fields.disposition} />}
      {action === "move" && (
        <Select label="Campaign" data={options(campaigns.data?.items.filter((x) => x.id !== conversation.interaction.campaign_id), (x) => x.title)} value={campaignId} onChange={setCampaignId} error={problems?.fields.campaign_id} searchable />
      )}
      {action === "put_back" && <Text size="sm">Another agent will get it from the queue.</Text>}
    </ConfirmModal>
  );
}

interface ComposeValues {
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  template_id: string | null;
  text: string;
}

/** Sends, asking the agent to confirm doubtful addresses first (with the seed's words) when the campaign requires it. */
function useConfirmedSend<T>(requireConfirmation: boolean, send: (confirmed: string[]) => Promise<T>) {
  const [asking, setAsking] = useState<{ address: string; confirmed: string[] } | null>(null);
  const mutation = useMutation({ mutationFn: send });
  const start = (fields: string[], confirmed: string[] = []) => {
    const doubtful = requireConfirmation ? addressesNeedingConfirmation(...fields).filter((a) => !confirmed.includes(a)) : [];
    if (doubtful.length) setAsking({ address: doubtful[0], confirmed });
    else mutation.mutate(confirmed);
  };
  // The API may still ask (its rules are the reference): the same dialog answers it.
  const apiAsks = isApiErrorBody(mutation.error) && (mutation.error.error as unknown as { confirmation_required?: boolean }).confirmation_required;
  const apiAddress = apiAsks ? (mutation.error as unknown as { error: { address: string } }).error.address : null;
  return { mutation, asking, setAsking, start, apiAddress };
}

function AddressConfirmation({ address, onOk, onCancel }: { address: string; onOk: () => void; onCancel: () => void }) {
  return (
    <ConfirmModal opened onClose={onCancel} title="Confirm email address" confirmLabel="OK" onConfirm={onOk} color="indigo">
      <Text size="sm" role="alert">
        {confirmationMessage(address)}
      </Text>
    </ConfirmModal>
  );
}

function Composer({ conversation, mode, onClose }: { conversation: Conversation; mode: ComposeMode; onClose: () => void }) {
  const queryClient = useQueryClient();
  const rules = conversation.rules;
  const myCampaigns = useMyCampaigns();
  const campaign = myCampaigns.data?.find((c) => c.id === conversation.interaction.campaign_id);
  const forward = mode === "forward";
  const draft = conversation.drafts.find((d) => (forward ? d.kind === "forward" : d.kind === "reply"));
  const subject = conversation.interaction.subject;
  const [values, setValues] = useState<ComposeValues>({
    to: draft?.to ?? (forward ? "" : conversation.client.client_email),
    cc: draft?.cc ?? "",
    bcc: draft?.bcc ?? "",
    subject: draft?.subject || (forward ? `Fwd: ${subject}` : /^re:/i.test(subject) ? subject : `Re: ${subject}`),
    template_id: draft?.template_id ?? null,
    text: draft?.text_body ?? "",
  });
  const set = <K extends keyof ComposeValues>(key: K, value: ComposeValues[K]) => setValues((v) => ({ ...v, [key]: value }));
  const freeFormat = rules?.allow_free_format ?? true;
  const path = { interaction_id: conversation.interaction.id };
  const base = {
    template_id: values.template_id,
    text_body: freeFormat && values.text.trim() ? values.text : null,
    cc: values.cc,
    bcc: values.bcc,
    subject: values.subject,
    expected_version: conversation.interaction.version,
    draft_id: draft?.id ?? null,
  };
  const send = useConfirmedSend(rules?.require_address_confirmation ?? false, (confirmed) =>
    forward
      ? must(api.POST("/api/interactions/{interaction_id}/forward", { params: { path }, body: { ...base, to: values.to, confirm_addresses: confirmed } }))
      : must(api.POST("/api/interactions/{interaction_id}/reply", { params: { path }, body: { ...base, to: values.to, quote_history: mode === "reply_history", confirm_addresses: confirmed } })),
  );
  const saveDraft = useMutation({
    mutationFn: () => {
      const body = { kind: forward ? ("forward" as const) : ("reply" as const), to: values.to, cc: values.cc, bcc: values.bcc, subject: values.subject, html_body: "", text_body: values.text, template_id: values.template_id, quote_history: mode === "reply_history" };
      return draft
        ? must(api.PUT("/api/interactions/{interaction_id}/drafts/{draft_id}", { params: { path: { ...path, draft_id: draft.id } }, body }))
        : must(api.POST("/api/interactions/{interaction_id}/drafts", { params: { path }, body }));
    },
    onSuccess: () => {
      notify("Draft saved.");
      void queryClient.invalidateQueries({ queryKey: ["conversation", conversation.interaction.id] });
    },
  });
  useEffect(() => {
    if (send.mutation.isSuccess) {
      notify(forward ? "Forwarded." : "Reply sent.");
      void queryClient.invalidateQueries({ queryKey: ["conversation", conversation.interaction.id] });
      void queryClient.invalidateQueries({ queryKey: ["tray"] });
      onClose();
    }
  }, [send.mutation.isSuccess, forward, queryClient, conversation.interaction.id, onClose]);
  const problems = send.mutation.error && !send.apiAddress ? describeError(send.mutation.error) : null;
  const confirmed = send.asking?.confirmed ?? [];

  return (
    <Paper withBorder p="md" radius="md" component="form" aria-label={forward ? "Forward" : "Reply"} noValidate onSubmit={(event: React.FormEvent) => { event.preventDefault(); send.start([values.to, values.cc, values.bcc]); }}>
      <Stack gap="xs">
        <Group justify="space-between">
          <Title order={5}>{forward ? "Forward" : mode === "reply_history" ? "Reply with history" : "Reply"}</Title>
          <Button variant="subtle" size="xs" onClick={onClose}>
            Discard
          </Button>
        </Group>
        {problems && (
          <Alert color="red" role="alert" title="Not sent">
            {problems.message}
          </Alert>
        )}
        <TextInput label="To" value={values.to} onChange={(e) => set("to", e.currentTarget.value)} error={problems?.fields.to} description="Separate addresses with , or ;" />
        <Group grow>
          <TextInput label="Cc" value={values.cc} onChange={(e) => set("cc", e.currentTarget.value)} error={problems?.fields.cc} />
          <TextInput label="Bcc" value={values.bcc} onChange={(e) => set("bcc", e.currentTarget.value)} error={problems?.fields.bcc} />
        </Group>
        <TextInput label="Subject" value={values.subject} onChange={(e) => set("subject", e.currentTarget.value)} error={problems?.fields.subject} />
        <Select
          label="Template"
          placeholder={freeFormat ? "No template (free text)" : "Choose a template"}
          data={conversation.templates.map((t) => ({ value: t.id, label: t.subject ? `${t.name} — ${t.subject}` : t.name }))}
          value={values.template_id}
          onChange={(value) => set("template_id", value)}
          clearable={freeFormat}
          required={!freeFormat}
          error={problems?.fields.template_id}
          nothingFoundMessage="This campaign has no template"
        />
        {freeFormat ? (
          <Textarea label="Message" autosize minRows={5} value={values.text} onChange={(e) => set("text", e.currentTarget.value)} error={problems?.fields.text_body ?? problems?.fields.html_body} description={values.template_id ? "Replaces the template's text (the template still gives the subject). Leave empty to send the template." : undefined} />
        ) : (
          <Text size="xs" c="dimmed">
            This campaign allows template-based emails only.
          </Text>
        )}
        <SignaturePreview signature={campaign?.signature} />
        <Group justify="flex-end">
          {rules?.allow_drafts && (
            <Button variant="default" onClick={() => saveDraft.mutate()} loading={saveDraft.isPending}>
              Save draft
            </Button>
          )}
          <Button type="submit" loading={send.mutation.isPending}>
            Send
          </Button>
        </Group>
      </Stack>
      {send.asking && (
        <AddressConfirmation
          address={send.asking.address}
          onCancel={() => send.setAsking(null)}
          onOk={() => {
            const next = [...confirmed, send.asking!.address];
            send.setAsking(null);
            send.start([values.to, values.cc, values.bcc], next);
          }}
        />
      )}
      {send.apiAddress && !send.mutation.isPending && (
        <AddressConfirmation
          address={send.apiAddress}
          onCancel={() => send.mutation.reset()}
          onOk={() => {
            const previous = (send.mutation.variables ?? []) as string[];
            send.mutation.mutate([...previous, send.apiAddress!]);
          }}
        />
      )}
    </Paper>
  );
}

export function NewEmailModal({ onClose, onSent }: { onClose: () => void; onSent: (interactionId: string) => void }) {
  const myCampaigns = useMyCampaigns();
  // A new email can only start in an enabled campaign the caller works.
  const campaignChoices = options(myCampaigns.data?.filter((c) => c.enabled), (c) => c.title);
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const [values, setValues] = useState({ to: "", cc: "", subject: "", text: "", template_id: null as string | null, customer_name: "" });
  const campaign = myCampaigns.data?.find((c) => c.id === campaignId);
  const freeFormat = campaign?.allow_free_format ?? true;
  const send = useConfirmedSend(campaign?.require_address_confirmation ?? true, (confirmed) =>
    must(
      api.POST("/api/interactions", {
        body: {
          campaign_id: campaignId ?? "",
          to: values.to,
          cc: values.cc,
          bcc: "",
          subject: values.subject || null,
          customer_name: values.customer_name,
          text_body: values.text.trim() ? values.text : null,
          template_id: values.template_id,
          confirm_addresses: confirmed,
        },
      }),
    ),
  );
  useEffect(() => {
    if (send.mutation.data) {
      notify("Email sent.");
      onSent(send.mutation.data.interaction.id);
    }
  }, [send.mutation.data, onSent]);
  const problems = send.mutation.error && !send.apiAddress ? describeError(send.mutation.error) : null;
  const templateChoices = (campaign?.templates ?? []).map((t) => ({ value: t.id, label: t.subject ? `${t.name} — ${t.subject}` : t.name }));
  const confirmed = send.asking?.confirmed ?? [];
  return (
    <Modal opened onClose={onClose} title="New email" size="lg" centered>
      <form noValidate onSubmit={(event) => { event.preventDefault(); send.start([values.to, values.cc]); }}>
        <Stack gap="xs">
          {problems && (
            <Alert color="red" role="alert" title="Not sent">
              {problems.message}
            </Alert>
          )}
          <Select
            label="Campaign"
            required
            data={campaignChoices}
            value={campaignId}
            onChange={(id) => {
              // Templates belong to a campaign: a new campaign clears the choice.
              setCampaignId(id);
              setValues((v) => ({ ...v, template_id: null }));
            }}
            error={problems?.fields.campaign_id}
            searchable
            nothingFoundMessage="No campaign available"
          />
          <TextInput label="To" required value={values.to} onChange={(e) => { const to = e.currentTarget.value; setValues((v) => ({ ...v, to })); }} error={problems?.fields.to} />
          <TextInput label="Customer name" value={values.customer_name} onChange={(e) => { const customer_name = e.currentTarget.value; setValues((v) => ({ ...v, customer_name })); }} />
          <TextInput label="Cc" value={values.cc} onChange={(e) => { const cc = e.currentTarget.value; setValues((v) => ({ ...v, cc })); }} error={problems?.fields.cc} />
          <TextInput label="Subject" value={values.subject} onChange={(e) => { const subject = e.currentTarget.value; setValues((v) => ({ ...v, subject })); }} error={problems?.fields.subject} />
          <Select
            label="Template"
            placeholder={!campaign ? "Choose a campaign first" : freeFormat ? "No template (free text)" : "Choose a template"}
            data={templateChoices}
            value={values.template_id}
            onChange={(template_id) => setValues((v) => ({ ...v, template_id }))}
            clearable={freeFormat}
            required={!freeFormat}
            disabled={!campaign}
            error={problems?.fields.template_id}
            nothingFoundMessage="This campaign has no template"
          />
          {!freeFormat ? (
            <Text size="xs" c="dimmed">This campaign allows template-based emails only.</Text>
          ) : (
            <Textarea label="Message" autosize minRows={5} value={values.text} onChange={(e) => { const text = e.currentTarget.value; setValues((v) => ({ ...v, text })); }} error={problems?.fields.text_body} />
          )}
          <SignaturePreview signature={campaign?.signature} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={send.mutation.isPending} disabled={!campaignId}>
              Send
            </Button>
          </Group>
        </Stack>
      </form>
      {send.asking && (
        <AddressConfirmation
          address={send.asking.address}
          onCancel={() => send.setAsking(null)}
          onOk={() => {
            const next = [...confirmed, send.asking!.address];
            send.setAsking(null);
            send.start([values.to, values.cc], next);
          }}
        />
      )}
      {send.apiAddress && !send.mutation.isPending && (
        <AddressConfirmation address={send.apiAddress} onCancel={() => send.mutation.reset()} onOk={() => send.mutation.mutate([...((send.mutation.variables ?? []) as string[]), send.apiAddress!])} />
      )}
    </Modal>
  );
}

