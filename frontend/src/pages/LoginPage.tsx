import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";

import { api, tokenStore } from "../api";
import { describeError, type FormProblems } from "../errors";

export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problems, setProblems] = useState<FormProblems | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setProblems(null);
    try {
      const { data, error } = await api.POST("/api/auth/login", { body: { email, password } });
      if (data) {
        tokenStore.set(data.access_token);
        onSignedIn();
      } else {
        setProblems(describeError(error));
      }
    } catch {
      setProblems(describeError(null));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center mih="100vh" bg="gray.0">
      <Paper component="form" onSubmit={submit} withBorder shadow="sm" p="xl" radius="md" w={380} aria-label="Sign in">
        <Stack>
          <div>
            <Title order={2}>Postdesk</Title>
            <Text c="dimmed" size="sm">
              Sign in to your contact centre
            </Text>
          </div>
          {problems && (
            <Alert color="red" role="alert" title="Could not sign in">
              {problems.message}
            </Alert>
          )}
          <TextInput
            label="Email"
            type="email"
            autoComplete="username"
            required
            value={email}
            error={problems?.fields.email}
            onChange={(e) => setEmail(e.currentTarget.value)}
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            value={password}
            error={problems?.fields.password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
          <Button type="submit" loading={busy} fullWidth>
            Sign in
          </Button>
        </Stack>
      </Paper>
    </Center>
  );
}
