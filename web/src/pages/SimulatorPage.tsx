import type { Me } from "../api.ts";
import { t } from "../i18n.ts";

/** Plays the customer on any channel, through the real inbound paths. */
export function SimulatorPage({ me }: { me: Me }) {
  return (
    <main id="main" className="page" tabIndex={-1}>
      <h1>{t.simulator}</h1>
      <p>{me.workspace.name}</p>
    </main>
  );
}
