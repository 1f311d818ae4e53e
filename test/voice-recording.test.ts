import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallDetails } from "../src/channels/twilio/call-details.ts";
import { fetchRecording } from "../src/channels/twilio/recording.ts";
import { RecordingJob } from "../src/channels/twilio/recording-job.ts";
import { createInbox } from "../src/conversations/inboxes.ts";
import type { Attachment } from "../src/conversations/tables.ts";
import { type Db, rows } from "../src/db/client.ts";
import { twilioSignature } from "../src/delivery/providers/twilio.ts";
import type { App } from "../src/http/app.ts";
import { PermanentJobError } from "../src/jobs/index.ts";
import { tempStore } from "./support/email-inbound.ts";
import { createTestWorkspace, testApp } from "./support/factories.ts";

// A callback that carries a RecordingUrl enqueues, with the call's update, a job that fetches
// the recording with the inbox's credentials into the attachment store and links it on the
// call's entry. The job's handler runs here on the job the callback enqueued, taken off the
// jobs table; recordings are served by a local stand-in for Twilio's API.

const PUBLIC_URL = "https://rapport.example.com";
const ACCOUNT = { accountSid: "ACf3a1c2b4d5e6f708192a3b4c5d6e7f80", authToken: "voice-auth-token" };
const MP3 = Buffer.concat([Buffer.from("ID3"), Buffer.alloc(64, 7)]);

type Form = Record<string, string>;
const fixture = (name: string): Form => JSON.parse(readFileSync(`test/fixtures/twilio/${name}.json`, "utf8"));

let app: App;
let db: Db;
let server: Server;
let base: string;
const requests: Array<{ path: string; authorization: string | undefined }> = [];
/** Answers for the next recording requests (then 200 with the file). */
const next: number[] = [];
const { store } = tempStore();

beforeAll(async () => {
  app = await testApp({ RAPPORT_PUBLIC_URL: PUBLIC_URL, RAPPORT_DEFAULT_COUNTRY: "US" });
  db = app.ctx.database.db;
  const expected = `Basic ${Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString("base64")}`;
  server = createServer((req, res) => {
    requests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const status = next.shift();
    if (req.headers.authorization !== expected || status === 401) {
      res
        .writeHead(401, { "content-type": "application/json" })
        .end('{"code":20003,"message":"Authenticate"}');
      return;
    }
    if (
      status !== undefined ||
      !/^\/2010-04-01\/Accounts\/AC[0-9a-f]{32}\/Recordings\/RE[0-9a-f]{32}\.mp3$/.test(req.url ?? "")
    ) {
      res.writeHead(status ?? 404, { "content-type": "application/json" }).end('{"code":20404}');
      return;
    }
    res.writeHead(200, { "content-type": "audio/mpeg", "content-length": String(MP3.length) }).end(MP3);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** A voice inbox whose API is the stand-in, and a signed poster for its webhook. */
async function setup() {
  const t = await createTestWorkspace(app.ctx.database);
  const inbox = await createInbox(db, t.workspace.id, {
    kind: "voice",
    name: "Hotline",
    address: "+14155550100",
    config: { ...ACCOUNT, baseUrl: base },
  });
  const path = `/webhooks/twilio/${t.workspace.id}/voice/${inbox.id}`;
  const post = (form: Form) =>
    app.inject({
      method: "POST",
      url: path,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSignature(ACCOUNT.authToken, `${PUBLIC_URL}${path}`, form),
      },
      payload: new URLSearchParams(form).toString(),
    });
  return { ws: t.workspace.id, inboxId: inbox.id, post };
}

/** Twilio's recording URL for this stand-in (the fixture's, on its host). */
const onStandIn = (form: Form): Form => ({
  ...form,
  RecordingUrl: String(form.RecordingUrl).replace("https://api.twilio.com", base),
});

async function entry(ws: string) {
  const [row] = await rows<{ id: string; call: CallDetails; attachments: Attachment[] }>(
    db,
    sql`SELECT id::text AS id, metadata->'call' AS call, attachments FROM conversation_messages
        WHERE workspace_id = ${ws} AND kind = 'call'`,
  );
  if (!row) throw new Error("no call entry");
  return row;
}

/** Takes the recording's job off the table (so only this test runs it). */
async function takeJob(ws: string, messageId: string, recordingSid: string) {
  const [row] = await rows<{ payload: unknown }>(
    db,
    sql`DELETE FROM jobs WHERE dedupe_key = ${`voice-recording:${ws}:${messageId}:${recordingSid}`} RETURNING payload`,
  );
  return row ? RecordingJob.parse(row.payload) : undefined;
}

describe("call recordings", () => {
  it("a status callback's RecordingUrl is fetched with the inbox's credentials, stored and linked on the call", async () => {
    const { ws, post } = await setup();
    // the only callback of an inbound call: completed, with its recording
    const completed = onStandIn(fixture("voice-completed"));
    expect((await post(completed)).statusCode).toBe(204);
    const before = await entry(ws);
    expect(before.call).toMatchObject({
      recordingSid: completed.RecordingSid,
      recordingUrl: completed.RecordingUrl,
    });
    // the same news again enqueues nothing more while the first job lives
    expect((await post(completed)).statusCode).toBe(204);
    const [queued] = await rows<{ n: number }>(
      db,
      sql`SELECT count(*)::int AS n FROM jobs WHERE dedupe_key = ${`voice-recording:${ws}:${before.id}:${completed.RecordingSid}`}`,
    );
    expect(queued?.n).toBe(1);
    const job = await takeJob(ws, before.id, completed.RecordingSid ?? "");
    expect(job).toMatchObject({ messageId: before.id, recordingUrl: completed.RecordingUrl });

    const from = requests.length;
    expect(await fetchRecording(db, job ?? RecordingJob.parse({}), store)).toBe("stored");
    expect(requests.slice(from)).toEqual([
      {
        path: `/2010-04-01/Accounts/${ACCOUNT.accountSid}/Recordings/${completed.RecordingSid}.mp3`,
        authorization: `Basic ${Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString("base64")}`,
      },
    ]);
    const after = await entry(ws);
    const name = `recording-${completed.RecordingSid}.mp3`;
    expect(after.attachments).toEqual([
      expect.objectContaining({ name, contentType: "audio/mpeg", size: MP3.length }),
    ]);
    expect(after.call.recording).toEqual({ sid: completed.RecordingSid, ...after.attachments[0] });
    expect((await store.get(ws, after.call.recording?.key ?? ""))?.data.equals(MP3)).toBe(true);
    // run again (a job runs at least once): nothing fetched, nothing added
    expect(await fetchRecording(db, job ?? RecordingJob.parse({}), store)).toBe("already_stored");
    expect((await entry(ws)).attachments).toHaveLength(1);
    expect(requests.length).toBe(from + 1);
  });

  it("a recording status callback completes a known call; for an unknown CallSid it is 404 and stores nothing", async () => {
    const { ws, inboxId, post } = await setup();
    const recording = onStandIn(fixture("voice-recording-status"));
    const unknown = await post(recording);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: "twilio.call_not_found" } });
    expect(await rows(db, sql`SELECT 1 FROM conversation_messages WHERE workspace_id = ${ws}`)).toEqual([]);

    expect((await post(fixture("voice-ringing"))).statusCode).toBe(204);
    expect((await post(recording)).statusCode).toBe(204);
    const known = await entry(ws);
    // a recording is not a status: the call stays ringing until its own news says otherwise
    expect(known.call).toMatchObject({
      status: "ringing",
      recordingSid: recording.RecordingSid,
      recordingDurationSeconds: 118,
    });
    expect(known.call.statuses.map((s) => s.status)).toEqual(["ringing"]);
    const job = await takeJob(ws, known.id, recording.RecordingSid ?? "");
    expect(await fetchRecording(db, job ?? RecordingJob.parse({}), store)).toBe("stored");
    // a forged recording callback is refused like any other
    const forged = await app.inject({
      method: "POST",
      url: `/webhooks/twilio/${ws}/voice/${inboxId}`,
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "Zm9yZ2Vk" },
      payload: new URLSearchParams({
        ...recording,
        RecordingSid: "RE9999999999999999999999999999999f",
      }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(await takeJob(ws, known.id, "RE9999999999999999999999999999999f")).toBeUndefined();
  });

  it("never sends the credentials elsewhere, and notes on the call why a recording could not be kept", async () => {
    const { ws, inboxId, post } = await setup();
    expect((await post(fixture("voice-ringing"))).statusCode).toBe(204);
    const { id: messageId } = await entry(ws);
    const job = (recordingUrl: string, recordingSid = "RE0000000000000000000000000000000a") =>
      RecordingJob.parse({ workspaceId: ws, inboxId, messageId, recordingSid, recordingUrl });
    const from = requests.length;

    // another host, another account, a query string: refused without a request
    for (const url of [
      `https://evil.example/2010-04-01/Accounts/${ACCOUNT.accountSid}/Recordings/RE1`,
      `${base}/2010-04-01/Accounts/AC${"0".repeat(32)}/Recordings/RE1`,
      `${base}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Recordings/RE1?redirect=https://evil.example`,
    ]) {
      const err = await fetchRecording(db, job(url), store).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentJobError);
    }
    expect(requests.length).toBe(from);
    expect((await entry(ws)).call.recordingError).toContain("is not a recording of this inbox's account");

    const url = `${base}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Recordings/RE0000000000000000000000000000000a`;
    // not ready yet: retried (a plain error), noted only on the last attempt
    next.push(404);
    const notYet = await fetchRecording(db, job(url), store).catch((e: unknown) => e);
    expect(notYet).toBeInstanceOf(Error);
    expect(notYet).not.toBeInstanceOf(PermanentJobError);
    next.push(503);
    await fetchRecording(db, job(url), store, { lastAttempt: true }).catch(() => undefined);
    expect((await entry(ws)).call.recordingError).toBe("the recording could not be fetched yet: HTTP 503");
    // credentials refused: never retried
    next.push(401);
    expect(await fetchRecording(db, job(url), store).catch((e: unknown) => e)).toBeInstanceOf(
      PermanentJobError,
    );
    // then it works: the error is cleared and the file linked
    expect(await fetchRecording(db, job(url), store)).toBe("stored");
    const done = await entry(ws);
    expect(done.call.recordingError).toBeUndefined();
    expect(done.attachments).toHaveLength(1);
  });
});
