import { Alert, Button, Center, Group, Loader, Stack } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, setUnauthorizedHandler, tokenStore } from "./api";
import { describeError } from "./errors";
import { LoginPage } from "./pages/LoginPage";
import { Shell } from "./pages/Shell";

export function App() {
  const queryClient = useQueryClient();
  const [signedIn, setSignedIn] = useState(() => tokenStore.get() !== null);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setSignedIn(false);
      queryClient.clear();
    });
  }, [queryClient]);

  const me = useQuery({
    queryKey: ["me"],
    enabled: signedIn,
    queryFn: async () => {
      const { data, error } = await api.GET("/api/auth/me");
      if (error) throw error;
      return data;
    },
  });

  const signOut = () => {
    tokenStore.clear();
    queryClient.clear();
    setSignedIn(false);
  };

  if (!signedIn) return <LoginPage onSignedIn={() => setSignedIn(true)} />;
  if (me.isError) {
    // A 401 has already sent the user to sign-in; anything else (server down, 500) must not spin forever.
    return (
      <Center mih="100vh" p="md">
        <Stack w={420}>
          <Alert color="red" role="alert" title="Could not load your account">
            {describeError(me.error).message}
          </Alert>
          <Group justify="flex-end">
            <Button variant="default" onClick={signOut}>
              Sign out
            </Button>
            <Button onClick={() => void me.refetch()} loading={me.isFetching}>
              Try again
            </Button>
          </Group>
        </Stack>
      </Center>
    );
  }
  if (!me.data) {
    return (
      <Center mih="100vh">
        <Loader aria-label="Loading your account" />
      </Center>
    );
  }
  return <Shell me={me.data} onSignOut={signOut} />;
}
