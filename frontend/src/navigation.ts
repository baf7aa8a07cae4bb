// What each role sees in the navigation; the API enforces the same rules.
import type { Role } from "./api";

export interface NavItem {
  path: string;
  label: string;
  roles: Role[];
}

export const NAV_ITEMS: NavItem[] = [
  { path: "/workspace", label: "Workspace", roles: ["agent", "supervisor", "admin"] },
  { path: "/supervision", label: "Supervision", roles: ["supervisor", "admin"] },
  { path: "/email-servers", label: "Email servers", roles: ["admin"] },
  { path: "/campaigns", label: "Campaigns", roles: ["admin"] },
  { path: "/templates", label: "Templates", roles: ["admin"] },
  { path: "/email-groups", label: "Email groups", roles: ["admin"] },
  { path: "/blacklist", label: "Blacklist", roles: ["admin"] },
  { path: "/people", label: "Users & teams", roles: ["admin"] },
  { path: "/break-reasons", label: "Break reasons", roles: ["admin"] },
  { path: "/incoming-mail", label: "Incoming mail", roles: ["admin"] },
  { path: "/system", label: "System status", roles: ["admin"] },
];

export function navigationFor(role: Role): NavItem[] {
  return NAV_ITEMS.filter((item) => item.roles.includes(role));
}
