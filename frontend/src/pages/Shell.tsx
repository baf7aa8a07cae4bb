import { AppShell, Badge, Burger, Button, Group, NavLink, Stack, Text, Title } from "@mantine/core";
import { useDisclosure, useMediaQuery } from "@mantine/hooks";
import { NavLink as RouterLink, Navigate, Route, Routes, useLocation } from "react-router-dom";

import type { Me } from "../api";
import { useEventStream } from "../events";
import { navigationFor } from "../navigation";
import { pageFor } from "./pages";
import { PlaceholderPage } from "./PlaceholderPage";

export function Shell({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const items = navigationFor(me.role);
  const location = useLocation();
  // Below the "sm" breakpoint the navigation is a drawer opened by the burger; it closes after a choice.
  const [navigationOpen, navigation] = useDisclosure(false);
  const narrowScreen = useMediaQuery("(max-width: 48em)");
  useEventStream();

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: "sm", collapsed: { mobile: !navigationOpen } }}
      padding="lg"
    >
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between" wrap="nowrap">
          <Group gap="xs" wrap="nowrap">
            <Burger
              opened={navigationOpen}
              onClick={navigation.toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={navigationOpen ? "Close navigation" : "Open navigation"}
            />
            <Title order={3}>Postdesk</Title>
            <Text c="dimmed" size="sm" visibleFrom="md">
              {me.company_name}
            </Text>
          </Group>
          <Group gap="sm" wrap="nowrap">
            <Text size="sm" data-testid="user-name" truncate maw={{ base: 110, sm: 220 }}>
              {me.name}
            </Text>
            <Badge variant="light" visibleFrom="sm">
              {me.role}
            </Badge>
            <Button variant="subtle" size="xs" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      {/* Off-screen links must not take keyboard focus while the drawer is closed. */}
      <AppShell.Navbar p="xs" aria-label="Main navigation" inert={narrowScreen && !navigationOpen}>
        <Stack gap={2}>
          {items.map((item) => (
            <NavLink
              key={item.path}
              component={RouterLink}
              to={item.path}
              label={item.label}
              active={location.pathname.startsWith(item.path)}
              onClick={navigation.close}
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
              element={pageFor(item.path, me) ?? <PlaceholderPage title={item.label} />}
            />
          ))}
          <Route path="*" element={<Navigate to={items[0].path} replace />} />
        </Routes>
      </AppShell.Main>
    </AppShell>
  );
}
