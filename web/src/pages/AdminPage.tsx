import type { Me } from "../api.ts";
import { t } from "../i18n.ts";

/** The settings: inboxes, topics, teams, agents, canned responses, keys, webhooks, the outbox. */
export function AdminPage({ me, section }: { me: Me; section: string | undefined }) {
  return (
    <main id="main" className="page" tabIndex={-1} data-section={section ?? ""}>
      <h1>{t.admin}</h1>
      <p>{me.workspace.name}</p>
    </main>
  );
}
