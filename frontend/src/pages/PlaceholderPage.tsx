import { Paper, Text, Title } from "@mantine/core";

export function PlaceholderPage({ title }: { title: string }) {
  return (
    <>
      <Title order={2} mb="md">
        {title}
      </Title>
      <Paper withBorder p="xl" radius="md">
        <Text c="dimmed">This screen is being built. Its API is available already.</Text>
      </Paper>
    </>
  );
}
