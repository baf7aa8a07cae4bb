import { Alert, Button, Group, Loader, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api } from "../api";
import { describeError } from "../errors";

export function SystemPage() {
  const queryClient = useQueryClient();
  const status = useQuery({
    queryKey: ["system", "status"],
    queryFn: async () => {
      const { data, error } = await api.GET("/api/system/status");
      if (error) throw error;
      return data;
    },
    refetchInterval: 30_000,
  });
  const check = useMutation({
    mutationFn: async () => {
      const { data, error } = await api.POST("/api/system/job-checks");
      if (error) throw error;
      return data;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["system"] }),
  });

  return (
    <Stack>
      <Title order={2}>System status</Title>
      {status.isPending && <Loader aria-label="Loading status" />}
      {status.isError && <Alert color="red">{describeError(status.error).message}</Alert>}
      {status.data && (
        <Paper withBorder p="md" radius="md">
          <Text>
            Mode: <b>{status.data.mode}</b> · database: <b>{status.data.database}</b> · version {status.data.version}
          </Text>
          <Table mt="md" aria-label="Workers">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Worker</Table.Th>
                <Table.Th>Engine</Table.Th>
                <Table.Th>Last seen</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {status.data.workers.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={3}>No worker has reported in the last minutes.</Table.Td>
                </Table.Tr>
              )}
              {status.data.workers.map((worker) => (
                <Table.Tr key={worker.worker}>
                  <Table.Td>{worker.worker}</Table.Td>
                  <Table.Td>{worker.engine}</Table.Td>
                  <Table.Td>{new Date(worker.last_seen_at).toLocaleString()}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <Group>
        <Button onClick={() => check.mutate()} loading={check.isPending}>
          Check background jobs
        </Button>
        {check.data && <Text size="sm">Check queued ({check.data.id.slice(0, 8)}…)</Text>}
      </Group>
    </Stack>
  );
}
