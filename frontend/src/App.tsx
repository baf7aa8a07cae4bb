import { Center, Loader } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { api, setUnauthorizedHandler, tokenStore } from "./api";
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

  if (!signedIn) return <LoginPage onSignedIn={() => setSignedIn(true)} />;
  if (!me.data) {
    return (
      <Center mih="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  return (
    <Shell
      me={me.data}
      onSignOut={() => {
        tokenStore.clear();
        queryClient.clear();
        setSignedIn(false);
      }}
    />
  );
}
