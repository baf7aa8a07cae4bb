import { AppShell, Badge, Button, Group, NavLink, Stack, Text, Title } from "@mantine/core";
import { NavLink as RouterLink, Navigate, Route, Routes, useLocation } from "react-router-dom";

import type { Me } from "../api";
import { useEventStream } from "../events";
import { navigationFor } from "../navigation";
import { PlaceholderPage } from "./PlaceholderPage";
import { SystemPage } from "./SystemPage";

export function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const items = navigationFor(me.role);
  const location = useLocation();
  useEventStream();

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: "sm" }} padding="lg">
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between">
          <Group gap="xs">
            <Title order={3}>Postdesk</Title>
            <Text c="dimmed" size="sm">
              {me.company_name}
            </Text>
          </Group>
          <Group gap="sm">
            <Text size="sm" data-testid="user-name">
              {me.name}
            </Text>
            <Badge variant="light">{me.role}</Badge>
            <Button variant="subtle" size="xs" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <Stack gap={2} component="nav">
          {items.map((item) => (
            <NavLink
              key={item.path}
              component={RouterLink}
              to={item.path}
              label={item.label}
              active={location.pathname.startsWith(item.path)}
            />
          ))}
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main>
        <Routes>
          {items.map((item) => (
            <Route
              key={item.path}
              path={`${item.path}/*`}
              element={item.path === "/system" ? <SystemPage /> : <PlaceholderPage title={item.label} />}
            />
          ))}
          <Route path="*" element={<Navigate to={items[0].path} replace />} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
