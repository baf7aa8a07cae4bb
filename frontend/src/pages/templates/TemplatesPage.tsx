// Templates: replies, automatic replies, signatures, dialer and notification mails, with a live preview.
import {
  Alert,
  Badge,
  Button,
  Grid,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
  List,
} from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { api, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { SafeHtmlFrame } from "../../components/SafeHtmlFrame";
import { ConfirmDeleteModal, ErrorAlert, FormAlert, LinkCell, PagedTable, PageHeader, QueryState, SearchInput } from "../../components/ui";
import { formatDate } from "../../lib/format";
import { formProblems } from "../../lib/forms";
import { definedParams, errorExtra, must } from "../../lib/http";
import { scanPlaceholders, variablesOf } from "../../lib/placeholders";
import { options, useCampaignOptions } from "../../lib/queries";

type Template = Schemas["TemplatePublic"];
type TemplateKind = Schemas["TemplateKind"];

export const TEMPLATE_KINDS: { value: TemplateKind; label: string }[] = [
  { value: "reply", label: "Reply" },
  { value: "auto_reply", label: "Automatic reply" },
  { value: "signature", label: "Signature" },
  { value: "dialer", label: "Dialer" },
  { value: "notification", label: "Notification" },
];
const kindLabel = (kind: string) => TEMPLATE_KINDS.find((k) => k.value === kind)?.label ?? kind;

export function TemplatesPage() {
  return (
    <Routes>
      <Route index element={<TemplateList />} />
      <Route path="new" element={<TemplateEditor />} />
      <Route path=":templateId" element={<TemplateEditor />} />
    </Routes>
  );
}

const PAGE_SIZE = 20;

function TemplateList() {
  const [search, setSearch] = useState("");
  const [kind, setKind] = useState<string | null>(null);
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const campaigns = useCampaignOptions();
  const campaignTitle = (id: string | null) => (id ? (campaigns.data?.items.find((c) => c.id === id)?.title ?? "…") : "All campaigns");
  const templates = useQuery({
    queryKey: ["templates", "list", { search, kind, campaignId, offset }],
    placeholderData: keepPreviousData,
    queryFn: () =>
      must(
        api.GET("/api/templates", {
          params: { query: definedParams({ q: search, kind: kind as TemplateKind | null, campaign_id: campaignId, offset, limit: PAGE_SIZE }) },
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
        title="Templates"
        description="Texts agents and automations start from. ${name} placeholders are filled in when the mail is written."
        actions={
          <Button component={Link} to="new">
            New template
          </Button>
        }
      />
      <Group mb="md">
        <SearchInput value={search} onChange={onSearch} label="Search templates" />
        <Select aria-label="Kind" placeholder="All kinds" data={TEMPLATE_KINDS} value={kind} onChange={(v) => { setKind(v); setOffset(0); }} clearable w={200} />
        <Select
          aria-label="Campaign"
          placeholder="Any campaign"
          data={options(campaigns.data?.items, (c) => c.title)}
          value={campaignId}
          onChange={(v) => { setCampaignId(v); setOffset(0); }}
          clearable
          searchable
          w={220}
        />
      </Group>
      <PagedTable
        query={templates}
        empty={search || kind || campaignId ? "No template matches these filters." : "No template yet."}
        onOffset={setOffset}
        label="Templates"
        columns={["Name", "Kind", "Subject", "Campaign", "Added on"]}
        highlightOnHover
        renderRow={(template) => (
          <Table.Tr key={template.id}>
            <LinkCell to={template.id} name={template.name} />
            <Table.Td>
              <Badge variant="light">{kindLabel(template.kind)}</Badge>
            </Table.Td>
            <Table.Td>{template.subject || "—"}</Table.Td>
            <Table.Td>{campaignTitle(template.campaign_id)}</Table.Td>
            <Table.Td>{formatDate(template.assigned_at)}</Table.Td>
          </Table.Tr>
        )}
      />
    </>
  );
}

function TemplateEditor() {
  const { templateId } = useParams();
  const template = useQuery({
    queryKey: ["templates", templateId],
    enabled: Boolean(templateId),
    queryFn: () => must(api.GET("/api/templates/{template_id}", { params: { path: { template_id: templateId! } } })),
  });
  if (!templateId) return <TemplateForm />;
  return <QueryState query={template} label="the template">{(loaded) => <TemplateForm template={loaded} key={loaded.updated_at} />}</QueryState>;
}

interface TemplateValues {
  name: string;
  kind: TemplateKind;
  campaign_id: string | null;
  subject: string;
  html_body: string;
  text_body: string;
}

function TemplateForm({ template }: { template?: Template }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [searchParams] = useSearchParams();
  const campaigns = useCampaignOptions();
  const [values, setValues] = useState<TemplateValues>({
    name: template?.name ?? "",
    kind: template?.kind ?? "reply",
    campaign_id: template ? template.campaign_id : searchParams.get("campaign"),
    subject: template?.subject ?? "",
    html_body: template?.html_body ?? "",
    // A derived text part is not the admin's text: leave it blank so it keeps following the HTML.
    text_body: template && !template.text_is_derived ? template.text_body : "",
  });
  const set = <K extends keyof TemplateValues>(key: K, value: TemplateValues[K]) => setValues((v) => ({ ...v, [key]: value }));
  const [deleting, setDeleting] = useState(false);
  const [sample, setSample] = useState<Record<string, string>>({});

  const clientProblems: Record<string, string> = {};
  for (const field of ["subject", "html_body", "text_body"] as const) {
    const problem = scanPlaceholders(values[field]).problem;
    if (problem) clientProblems[field] = problem;
  }
  const used = variablesOf(values.subject, values.html_body, values.text_body);
  const [submitted, setSubmitted] = useState(false);

  const save = useMutation({
    mutationFn: () => {
      const body = { ...values, name: values.name.trim(), text_body: values.text_body.trim() === "" ? null : values.text_body };
      return template
        ? must(api.PATCH("/api/templates/{template_id}", { params: { path: { template_id: template.id } }, body }))
        : must(api.POST("/api/templates", { body }));
    },
    onSuccess: (saved) => {
      notify(`Template “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["templates"] });
      // Campaign details list their templates.
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      navigate(`/templates/${saved.id}`, { replace: true });
    },
  });
  const remove = useMutation({
    mutationFn: () => must(api.DELETE("/api/templates/{template_id}", { params: { path: { template_id: template!.id } } })),
    onSuccess: () => {
      notify("Template deleted.");
      void queryClient.invalidateQueries({ queryKey: ["templates"] });
      void queryClient.invalidateQueries({ queryKey: ["campaigns"] });
      navigate("/templates");
    },
  });
  const problems = formProblems(submitted ? clientProblems : null, save.error);
  const error = (field: string) => problems?.fields[field] ?? clientProblems[field];
  const dirty =
    !template ||
    values.name !== template.name ||
    values.kind !== template.kind ||
    values.campaign_id !== template.campaign_id ||
    values.subject !== template.subject ||
    values.html_body !== template.html_body;

  return (
    <>
      <PageHeader
        title={template ? `Template “${template.name}”` : "New template"}
        actions={
          template && (
            <Button variant="subtle" color="red" onClick={() => { remove.reset(); setDeleting(true); }}>
              Delete
            </Button>
          )
        }
      />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <form
            aria-label="Template"
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              setSubmitted(true);
              if (Object.keys(clientProblems).length === 0) save.mutate();
            }}
          >
            <Stack>
              <FormAlert problems={problems} />
              <Group grow align="flex-start">
                <TextInput label="Name" required value={values.name} onChange={(e) => set("name", e.currentTarget.value)} error={error("name")} />
                <Select label="Kind" data={TEMPLATE_KINDS} value={values.kind} onChange={(v) => v && set("kind", v as TemplateKind)} allowDeselect={false} error={error("kind")} />
              </Group>
              <Select
                label="Campaign"
                description="Leave empty to offer the template to every campaign."
                placeholder="All campaigns"
                data={options(campaigns.data?.items, (c) => c.title)}
                value={values.campaign_id}
                onChange={(v) => set("campaign_id", v)}
                clearable
                searchable
                error={error("campaign_id")}
              />
              <TextInput label="Subject" value={values.subject} onChange={(e) => set("subject", e.currentTarget.value)} error={error("subject")} />
              <Textarea
                label="HTML body"
                autosize
                minRows={8}
                maxRows={24}
                styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)", fontSize: 13 } }}
                value={values.html_body}
                onChange={(e) => set("html_body", e.currentTarget.value)}
                error={error("html_body")}
              />
              <Textarea
                label="Plain-text body"
                description="Optional: left blank, it is derived from the HTML."
                autosize
                minRows={3}
                maxRows={12}
                value={values.text_body}
                onChange={(e) => set("text_body", e.currentTarget.value)}
                error={error("text_body")}
              />
              <Group justify="flex-end">
                <Button variant="subtle" component={Link} to="/templates">
                  Back to templates
                </Button>
                <Button type="submit" loading={save.isPending}>
                  {template ? "Save template" : "Create template"}
                </Button>
              </Group>
            </Stack>
          </form>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack>
            <Paper withBorder p="md" radius="md">
              <Title order={5} mb="xs">
                Variables used
              </Title>
              {used.length === 0 ? (
                <Text size="sm" c="dimmed">
                  None. Write <code>{"${first_name}"}</code> to insert a value.
                </Text>
              ) : (
                <Stack gap="xs" aria-label="Variables used">
                  {used.map((name) => (
                    <TextInput
                      key={name}
                      label={name}
                      size="xs"
                      placeholder="Sample value for the preview"
                      value={sample[name] ?? ""}
                      onChange={(e) => {
                        const value = e.currentTarget.value;
                        setSample((s) => ({ ...s, [name]: value }));
                      }}
                    />
                  ))}
                </Stack>
              )}
            </Paper>
            {template ? (
              <TemplatePreviewPanel template={template} variables={sample} stale={dirty} />
            ) : (
              <Alert color="gray" title="Preview">
                Create the template to see its preview.
              </Alert>
            )}
          </Stack>
        </Grid.Col>
      </Grid>
      {template && (
        <ConfirmDeleteModal
          opened={deleting}
          onClose={() => setDeleting(false)}
          what="template"
          name={template.name}
          consequence="A template used as a campaign's automatic reply or signature cannot be deleted."
          onConfirm={() => remove.mutate()}
          busy={remove.isPending}
          error={remove.error}
          blockers={<Dependents error={remove.error} />}
        />
      )}
    </>
  );
}

function Dependents({ error }: { error: unknown }) {
  const dependents = errorExtra<{ id: string; name: string }[]>(error, "dependents") ?? [];
  if (!dependents.length) return null;
  return (
    <List size="sm" mt="xs">
      {dependents.map((d) => (
        <List.Item key={d.id}>{d.name}</List.Item>
      ))}
    </List>
  );
}

/** The preview endpoint renders the saved template with the sample values, shortly after typing stops. */
function TemplatePreviewPanel({ template, variables, stale }: { template: Template; variables: Record<string, string>; stale: boolean }) {
  const [debounced, setDebounced] = useState(variables);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(variables), 300);
    return () => window.clearTimeout(timer);
  }, [variables]);
  const preview = useQuery({
    queryKey: ["templates", template.id, "preview", template.updated_at, debounced],
    placeholderData: keepPreviousData,
    queryFn: () => must(api.POST("/api/templates/{template_id}/preview", { params: { path: { template_id: template.id } }, body: { variables: debounced } })),
  });
  return (
    <Paper withBorder p="md" radius="md" aria-label="Preview">
      <Group justify="space-between" mb="xs">
        <Title order={5}>Preview</Title>
        {stale && (
          <Badge color="yellow" variant="light">
            shows the saved version
          </Badge>
        )}
      </Group>
      {preview.isError && <ErrorAlert error={preview.error} title="Preview failed" />}
      {preview.data && (
        <Stack gap="xs">
          <Text size="sm">
            <b>Subject:</b> <span data-testid="preview-subject">{preview.data.subject || "—"}</span>
          </Text>
          {preview.data.missing.length > 0 && (
            <Text size="xs" c="orange">
              No value yet for: {preview.data.missing.join(", ")}
            </Text>
          )}
          <SafeHtmlFrame html={preview.data.html_body} title="Template preview" height={320} />
        </Stack>
      )}
    </Paper>
  );
}
