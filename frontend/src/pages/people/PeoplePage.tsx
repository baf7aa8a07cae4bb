// Users, teams and companies: who works in the contact centre, in which teams, for which company.
import { Badge, Button, Group, MultiSelect, PasswordInput, Paper, Select, Stack, Switch, Table, Tabs, Text, Textarea, TextInput, Title } from "@mantine/core";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";

import { api, type Me, type Schemas } from "../../api";
import { notify } from "../../components/notify";
import { ACTIONS_COLUMN, ConfirmDeleteModal, FormAlert, FormModal, ListTable, NameCell, PagedTable, PageHeader, QueryState, RowActions, SearchInput } from "../../components/ui";
import { formatDate, formatDateTime } from "../../lib/format";
import { formProblems } from "../../lib/forms";
import { definedParams, must } from "../../lib/http";
import { options, useTeams, useUsers } from "../../lib/queries";

type User = Schemas["UserPublic"];
type Team = Schemas["TeamPublic"];
type Role = Schemas["Role"];

const ROLES: { value: Role; label: string }[] = [
  { value: "agent", label: "Agent" },
  { value: "supervisor", label: "Supervisor" },
  { value: "admin", label: "Administrator" },
];
const ROLE_COLOR: Record<Role, string> = { agent: "blue", supervisor: "grape", admin: "orange" };

export function PeoplePage({ me }: { me: Me }) {
  const { "*": rest } = useParams();
  const navigate = useNavigate();
  const tab = rest?.split("/")[0] || "users";
  return (
    <>
      <PageHeader title="Users & teams" description={`People of ${me.company_name}.`} />
      <Tabs value={tab} onChange={(value) => navigate(`/people/${value}`)} keepMounted={false}>
        <Tabs.List mb="lg">
          <Tabs.Tab value="users">Users</Tabs.Tab>
          <Tabs.Tab value="teams">Teams</Tabs.Tab>
          <Tabs.Tab value="company">Company</Tabs.Tab>
          {me.is_platform_admin && <Tabs.Tab value="companies">All companies</Tabs.Tab>}
        </Tabs.List>
        <Tabs.Panel value="users">
          <UsersTab me={me} />
        </Tabs.Panel>
        <Tabs.Panel value="teams">
          <TeamsTab />
        </Tabs.Panel>
        <Tabs.Panel value="company">
          <CompanyTab />
        </Tabs.Panel>
        {me.is_platform_admin && (
          <Tabs.Panel value="companies">
            <CompaniesTab />
          </Tabs.Panel>
        )}
      </Tabs>
    </>
  );
}

const PAGE_SIZE = 25;

function UsersTab({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [search, setSearch] = useState("");
  const [role, setRole] = useState<string | null>(null);
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<User | "new" | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const users = useQuery({
    queryKey: ["users", "list", { search, role, offset }],
    placeholderData: keepPreviousData,
    queryFn: () => must(api.GET("/api/users", { params: { query: definedParams({ q: search, role: role as Role | null, offset, limit: PAGE_SIZE }) } })),
  });
  const remove = useMutation({
    mutationFn: (user: User) => must(api.DELETE("/api/users/{user_id}", { params: { path: { user_id: user.id } } })),
    onSuccess: () => {
      setDeleting(null);
      notify("User deleted.");
      void queryClient.invalidateQueries({ queryKey: ["users"] });
    },
  });
  const onSearch = useCallback((value: string) => {
    setSearch(value);
    setOffset(0);
  }, []);
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <SearchInput value={search} onChange={onSearch} label="Search users" placeholder="Name or email" />
          <Select aria-label="Role" placeholder="All roles" data={ROLES} value={role} onChange={(v) => { setRole(v); setOffset(0); }} clearable w={180} />
        </Group>
        <Button onClick={() => setEditing("new")}>New user</Button>
      </Group>
      <PagedTable
        query={users}
        empty="No user matches."
        onOffset={setOffset}
        label="Users"
        columns={["Name", "Email", "Role", "Last sign-in", ACTIONS_COLUMN]}
        highlightOnHover
        renderRow={(user) => (
          <Table.Tr key={user.id}>
            <NameCell name={user.name} tag={!user.is_active && "inactive"} />
            <Table.Td>{user.email}</Table.Td>
            <Table.Td>
              <Badge color={ROLE_COLOR[user.role]} variant="light">
                {user.role}
              </Badge>
            </Table.Td>
            <Table.Td>{formatDateTime(user.last_login_at)}</Table.Td>
            <Table.Td>
              <RowActions
                name={user.name}
                onEdit={() => setEditing(user)}
                onDelete={user.id !== me.id ? () => { remove.reset(); setDeleting(user); } : undefined}
              />
            </Table.Td>
          </Table.Tr>
        )}
      />
      {editing && <UserModal user={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        what="user"
        name={deleting?.name ?? ""}
        consequence="To keep their history, you can deactivate a user instead."
        onConfirm={() => deleting && remove.mutate(deleting)}
        busy={remove.isPending}
        error={remove.error}
      />
    </Stack>
  );
}

function UserModal({ user, onClose }: { user: User | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState(user?.email ?? "");
  const [name, setName] = useState(user?.name ?? "");
  const [role, setRole] = useState<Role>(user?.role ?? "agent");
  const [active, setActive] = useState(user?.is_active ?? true);
  const [password, setPassword] = useState("");
  const save = useMutation({
    mutationFn: () =>
      user
        ? must(api.PATCH("/api/users/{user_id}", { params: { path: { user_id: user.id } }, body: { name, role, is_active: active, ...(password ? { password } : {}) } }))
        : must(api.POST("/api/users", { body: { email, name, role, password } })),
    onSuccess: (saved) => {
      notify(`User “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["users"] });
      onClose();
    },
  });
  const [checked, setChecked] = useState(false);
  // The API's minimum, checked before sending (a blank password on edit keeps the current one).
  const passwordProblem = (user ? password !== "" : true) && password.length < 10 ? "Use at least 10 characters." : null;
  const problems = formProblems(checked && passwordProblem ? { password: passwordProblem } : null, save.error);
  return (
    <FormModal
      title={user ? `Edit “${user.name}”` : "New user"}
      onClose={onClose}
      onSubmit={() => {
        setChecked(true);
        if (!passwordProblem) save.mutate();
      }}
      problems={problems}
      submitting={save.isPending}
      submitLabel={user ? "Save" : "Create user"}
    >
      <TextInput label="Email" type="email" required disabled={Boolean(user)} value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={problems?.fields.email} data-autofocus />
      <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={problems?.fields.name} />
      <Select label="Role" data={ROLES} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} error={problems?.fields.role} />
      <PasswordInput
        label={user ? "New password" : "Password"}
        description={user ? "Leave blank to keep the current password." : "At least 10 characters."}
        required={!user}
        value={password}
        onChange={(e) => setPassword(e.currentTarget.value)}
        error={problems?.fields.password}
        aria-invalid={Boolean(problems?.fields.password)}
        autoComplete="new-password"
      />
      {user && <Switch label="Active (can sign in)" checked={active} onChange={(e) => setActive(e.currentTarget.checked)} />}
    </FormModal>
  );
}

function TeamsTab() {
  const teams = useTeams();
  const users = useUsers();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Team | "new" | null>(null);
  const [deleting, setDeleting] = useState<Team | null>(null);
  const remove = useMutation({
    mutationFn: (team: Team) => must(api.DELETE("/api/teams/{team_id}", { params: { path: { team_id: team.id } } })),
    onSuccess: () => {
      setDeleting(null);
      notify("Team deleted.");
      void queryClient.invalidateQueries({ queryKey: ["teams"] });
    },
  });
  const userName = (id: string) => users.data?.items.find((u) => u.id === id)?.name ?? "…";
  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setEditing("new")}>New team</Button>
      </Group>
      <ListTable
        query={teams}
        empty="No team yet."
        label="Teams"
        columns={["Name", "Members", "Created", ACTIONS_COLUMN]}
        renderRow={(team) => (
          <Table.Tr key={team.id}>
            <Table.Td>
              <Text fw={500} size="sm">
                {team.name}
              </Text>
              <Text size="xs" c="dimmed">
                {team.description}
              </Text>
            </Table.Td>
            <Table.Td>{team.member_ids.length ? team.member_ids.map(userName).join(", ") : "—"}</Table.Td>
            <Table.Td>{formatDate(team.created_at)}</Table.Td>
            <Table.Td>
              <RowActions name={team.name} onEdit={() => setEditing(team)} onDelete={() => { remove.reset(); setDeleting(team); }} />
            </Table.Td>
          </Table.Tr>
        )}
      />
      {editing && <TeamModal team={editing === "new" ? null : editing} users={users.data?.items ?? []} onClose={() => setEditing(null)} />}
      <ConfirmDeleteModal
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        what="team"
        name={deleting?.name ?? ""}
        onConfirm={() => deleting && remove.mutate(deleting)}
        busy={remove.isPending}
        error={remove.error}
      />
    </Stack>
  );
}

function TeamModal({ team, users, onClose }: { team: Team | null; users: User[]; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(team?.name ?? "");
  const [description, setDescription] = useState(team?.description ?? "");
  const [memberIds, setMemberIds] = useState<string[]>(team?.member_ids ?? []);
  const save = useMutation({
    mutationFn: () => {
      const body = { name, description, member_ids: memberIds };
      return team ? must(api.PATCH("/api/teams/{team_id}", { params: { path: { team_id: team.id } }, body })) : must(api.POST("/api/teams", { body }));
    },
    onSuccess: (saved) => {
      notify(`Team “${saved.name}” saved.`);
      void queryClient.invalidateQueries({ queryKey: ["teams"] });
      onClose();
    },
  });
  const problems = formProblems(null, save.error);
  return (
    <FormModal title={team ? `Edit “${team.name}”` : "New team"} onClose={onClose} onSubmit={() => save.mutate()} problems={problems} submitting={save.isPending}>
      <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={problems?.fields.name} data-autofocus />
      <Textarea label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={problems?.fields.description} />
      <MultiSelect label="Members" data={options(users, (u) => `${u.name} (${u.role})`)} value={memberIds} onChange={setMemberIds} searchable error={problems?.fields.member_ids} />
    </FormModal>
  );
}

function CompanyTab() {
  const queryClient = useQueryClient();
  const company = useQuery({ queryKey: ["company"], queryFn: () => must(api.GET("/api/companies/current")) });
  const [name, setName] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => must(api.PATCH("/api/companies/current", { body: { name: name ?? "" } })),
    onSuccess: () => {
      notify("Company renamed.");
      setName(null);
      void queryClient.invalidateQueries({ queryKey: ["company"] });
      void queryClient.invalidateQueries({ queryKey: ["me"] });
    },
  });
  const problems = formProblems(null, save.error);
  return (
    <QueryState query={company} label="the company">
      {(c) => (
        <Paper withBorder p="lg" radius="md" maw={520}>
          <form noValidate
            onSubmit={(event) => {
              event.preventDefault();
              save.mutate();
            }}
          >
            <Stack>
              <TextInput label="Company name" required value={name ?? c.name} onChange={(e) => setName(e.currentTarget.value)} error={problems?.fields.name ?? (problems && !Object.keys(problems.fields).length ? problems.message : undefined)} />
              <Text size="xs" c="dimmed">
                Created {formatDate(c.created_at)}
              </Text>
              <Group justify="flex-end">
                <Button type="submit" disabled={name === null || name === c.name} loading={save.isPending}>
                  Save
                </Button>
              </Group>
            </Stack>
          </form>
        </Paper>
      )}
    </QueryState>
  );
}

function CompaniesTab() {
  const queryClient = useQueryClient();
  const companies = useQuery({ queryKey: ["companies"], queryFn: () => must(api.GET("/api/companies")) });
  const empty = { name: "", admin_email: "", admin_name: "", admin_password: "" };
  const [values, setValues] = useState(empty);
  const create = useMutation({
    mutationFn: () => must(api.POST("/api/companies", { body: values })),
    onSuccess: (company) => {
      notify(`Company “${company.name}” created with its first admin.`);
      setValues(empty);
      void queryClient.invalidateQueries({ queryKey: ["companies"] });
    },
  });
  const problems = formProblems(null, create.error);
  const field = (key: keyof typeof empty, label: string, type = "text") => (
    <TextInput
      label={label}
      type={type}
      required
      value={values[key]}
      onChange={(e) => {
        const value = e.currentTarget.value;
        setValues((v) => ({ ...v, [key]: value }));
      }}
      error={problems?.fields[key]}
    />
  );
  return (
    <Stack>
      <ListTable
        query={companies}
        label="Companies"
        columns={["Name", "Created"]}
        renderRow={(company) => (
          <Table.Tr key={company.id}>
            <Table.Td>{company.name}</Table.Td>
            <Table.Td>{formatDate(company.created_at)}</Table.Td>
          </Table.Tr>
        )}
      />
      <Paper withBorder p="lg" radius="md" maw={620}>
        <Title order={4} mb="sm">
          New company
        </Title>
        <form noValidate
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <FormAlert problems={problems} />
            {field("name", "Company name")}
            {field("admin_name", "First admin's name")}
            {field("admin_email", "First admin's email", "email")}
            {field("admin_password", "First admin's password", "password")}
            <Group justify="flex-end">
              <Button type="submit" loading={create.isPending}>
                Create company
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
