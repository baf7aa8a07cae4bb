// Shared lookups for pickers (campaign groups, teams, agents, templates, campaigns); keys match events.ts.
import { useQuery } from "@tanstack/react-query";

import { api, type Schemas } from "../api";
import { must } from "./http";

// Pickers load one large page; lists use their own paginated queries.
const PICKER_LIMIT = 200;

export function useCampaignGroups() {
  return useQuery({ queryKey: ["campaign-groups"], queryFn: () => must(api.GET("/api/campaign-groups")) });
}

export function useTeams() {
  return useQuery({ queryKey: ["teams"], queryFn: () => must(api.GET("/api/teams")) });
}

export function useUsers(role?: Schemas["Role"]) {
  return useQuery({
    queryKey: ["users", "picker", role ?? "all"],
    queryFn: () => must(api.GET("/api/users", { params: { query: { role, limit: PICKER_LIMIT } } })),
  });
}

export function useTemplateOptions(kind?: Schemas["TemplateKind"]) {
  return useQuery({
    queryKey: ["templates", "picker", kind ?? "all"],
    queryFn: () => must(api.GET("/api/templates", { params: { query: { kind, limit: PICKER_LIMIT } } })),
  });
}

export function useCampaignOptions() {
  return useQuery({
    queryKey: ["campaigns", "picker"],
    queryFn: () => must(api.GET("/api/campaigns", { params: { query: { limit: PICKER_LIMIT } } })),
  });
}

export const options = <T extends { id: string }>(items: T[] | undefined, label: (item: T) => string) =>
  (items ?? []).map((item) => ({ value: item.id, label: label(item) }));
