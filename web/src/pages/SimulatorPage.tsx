import "../components/simulator/simulator.css";
import { Alert } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Me } from "../api.ts";
import { Busy } from "../components/Busy.tsx";
import { SimInboxList } from "../components/simulator/channels.ts";
import { readLog } from "../components/simulator/log.ts";
import { SimulatorForm } from "../components/simulator/SimulatorForm.tsx";
import { SimulatorLog } from "../components/simulator/SimulatorLog.tsx";
import { t } from "../i18n.ts";
import { s } from "../strings/simulator.ts";

/** Plays the customer on any channel, through the real inbound paths. */
export function SimulatorPage({ me }: { me: Me }) {
  const inboxes = useQuery({
    queryKey: ["simulator", "inboxes", me.workspace.id],
    queryFn: () => api(SimInboxList, "/api/v1/simulator/inboxes"),
  });
  const [log, setLog] = useState(readLog);
  return (
    <main id="main" className="page sim-page" tabIndex={-1}>
      <h1 className="sim-title">{t.simulator}</h1>
      <p className="muted">{s.intro}</p>
      <div className="sim-layout">
        <div>
          {inboxes.isPending ? (
            <Busy label={t.loading} />
          ) : inboxes.isError ? (
            <Alert color="red" role="alert">
              {inboxes.error.message}
            </Alert>
          ) : inboxes.data.data.length === 0 ? (
            <p>{s.noInboxes}</p>
          ) : (
            <SimulatorForm inboxes={inboxes.data.data} log={log} onSent={setLog} />
          )}
        </div>
        <SimulatorLog entries={log} />
      </div>
    </main>
  );
}
