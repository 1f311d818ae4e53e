import "../components/admin/admin.css";
import type { Me } from "../api.ts";
import { AdminNav } from "../components/admin/AdminNav.tsx";
import { AgentsSection } from "../components/admin/AgentsSection.tsx";
import { ApiKeysSection } from "../components/admin/ApiKeysSection.tsx";
import { CannedSection } from "../components/admin/CannedSection.tsx";
import { InboxesSection } from "../components/admin/InboxesSection.tsx";
import { OutboxSection } from "../components/admin/OutboxSection.tsx";
import { type SectionId, sectionOf } from "../components/admin/sections.ts";
import { TeamsSection } from "../components/admin/TeamsSection.tsx";
import { TopicsSection } from "../components/admin/TopicsSection.tsx";
import { WebhooksSection } from "../components/admin/WebhooksSection.tsx";
import { t } from "../i18n.ts";
import { a } from "../strings/admin.ts";

// the settings are one chunk, loaded with this page: moving between sections loads nothing more
const VIEWS: Record<SectionId, React.ComponentType<{ me: Me }>> = {
  inboxes: InboxesSection,
  topics: TopicsSection,
  teams: TeamsSection,
  agents: AgentsSection,
  canned: CannedSection,
  "api-keys": ApiKeysSection,
  webhooks: WebhooksSection,
  outbox: OutboxSection,
};

/** The settings: inboxes, topics, teams, agents, canned responses, keys, webhooks, the outbox. */
export function AdminPage({ me, section }: { me: Me; section: string | undefined }) {
  const current = sectionOf(section);
  const View = current ? VIEWS[current] : undefined;
  return (
    <main id="main" className="page admin-page" tabIndex={-1} data-section={current ?? ""}>
      <h1 className="admin-title">{t.admin}</h1>
      <div className="admin-layout">
        <AdminNav current={current} />
        <div className="admin-content">{View ? <View me={me} /> : <p>{a.noSuchSection}</p>}</div>
      </div>
    </main>
  );
}
