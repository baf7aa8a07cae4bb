// Which screen answers each navigation path (see navigation.ts for who sees which).
import type { ReactElement } from "react";

import type { Me } from "../api";
import { BlacklistPage } from "./blacklist/BlacklistPage";
import { BreakReasonsPage } from "./breaks/BreakReasonsPage";
import { CampaignsPage } from "./campaigns/CampaignsPage";
import { EmailGroupsPage } from "./groups/EmailGroupsPage";
import { IncomingMailPage } from "./inbound/IncomingMailPage";
import { PeoplePage } from "./people/PeoplePage";
import { ServersPage } from "./servers/ServersPage";
import { SupervisionPage } from "./supervision/SupervisionPage";
import { SystemPage } from "./SystemPage";
import { TemplatesPage } from "./templates/TemplatesPage";
import { WorkspacePage } from "./workspace/WorkspacePage";

export function pageFor(path: string, me: Me): ReactElement | null {
  switch (path) {
    case "/email-servers":
      return <ServersPage />;
    case "/campaigns":
      return <CampaignsPage />;
    case "/templates":
      return <TemplatesPage />;
    case "/email-groups":
      return <EmailGroupsPage />;
    case "/blacklist":
      return <BlacklistPage />;
    case "/people":
      return <PeoplePage me={me} />;
    case "/workspace":
      return <WorkspacePage me={me} />;
    case "/supervision":
      return <SupervisionPage />;
    case "/break-reasons":
      return <BreakReasonsPage />;
    case "/incoming-mail":
      return <IncomingMailPage />;
    case "/system":
      return <SystemPage />;
    default:
      return null;
  }
}
