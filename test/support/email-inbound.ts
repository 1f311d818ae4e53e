import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import nodemailer, { type Transporter } from "nodemailer";
import pino from "pino";
import { type SmtpListener, startSmtpListener } from "../../src/channels/email/smtp-listener.ts";
import { type AttachmentStore, localAttachmentStore } from "../../src/conversations/attachments.ts";
import { createInbox } from "../../src/conversations/inboxes.ts";
import { type Database, type Db, rows } from "../../src/db/client.ts";
import { deliveries } from "../../src/delivery/tables.ts";
import { uuidv7 } from "../../src/ids.ts";
import { identify } from "../../src/profiles/identify.ts";

/** A fixture's bytes, with literal replacements (unique addresses and ids per test). */
export function emlFixture(name: string, replace: Record<string, string> = {}): Buffer {
  let text = readFileSync(new URL(`../fixtures/email/${name}`, import.meta.url), "latin1");
  for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
  return Buffer.from(text, "latin1");
}

/** An attachment store in a fresh temporary folder. */
export function tempStore(): { store: AttachmentStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "rapport-email-in-"));
  return { store: localAttachmentStore(dir), dir };
}

export async function emailInbox(db: Db, workspaceId: string, address = "support@melodia.example") {
  return createInbox(db, workspaceId, { kind: "email", name: "Support", address });
}

/** A customer known by this email before any mail arrives. */
export async function knownCustomer(db: Db, workspaceId: string, email: string): Promise<string> {
  const r = await identify(db, workspaceId, {
    identifiers: [
      { kind: "user_id", value: `u-${uuidv7()}` },
      { kind: "email", value: email },
    ],
    reason: "test",
    defaultCountry: "US",
  });
  return r.customerId;
}

/** An email the SMTP provider sent (a broadcast, a journey step, an agent's reply), as the ledger holds it. */
export async function sentEmail(
  db: Db,
  workspaceId: string,
  customerId: string,
  address: string,
  providerMessageId: string,
): Promise<string> {
  const id = uuidv7();
  await db.insert(deliveries).values({
    workspaceId,
    id,
    customerId,
    channel: "email",
    topicId: uuidv7(),
    kind: "marketing",
    address,
    content: { subject: "Spring sale", text: "20% off" },
    request: { topic: "news" },
    idempotencyKey: id,
    requestHash: "test",
    state: "sent",
    gate: { action: "send" },
    provider: "smtp",
    providerMessageId,
    source: "broadcast",
  });
  return id;
}

export type StoredMessage = {
  id: string;
  conversationId: string;
  text: string;
  html: string | null;
  attachments: Array<{ key: string; name: string; contentType: string; size: number }>;
  metadata: Record<string, unknown>;
  providerMessageId: string | null;
};

export async function messagesOf(
  db: Db,
  workspaceId: string,
  conversationId: string,
): Promise<StoredMessage[]> {
  return rows<StoredMessage>(
    db,
    sql`SELECT id::text AS id, conversation_id::text AS "conversationId", text, html, attachments, metadata,
          provider_message_id AS "providerMessageId"
        FROM conversation_messages WHERE workspace_id = ${workspaceId} AND conversation_id = ${conversationId}
        ORDER BY created_at, id`,
  );
}

export async function conversationsIn(db: Db, workspaceId: string) {
  return rows<{
    id: string;
    status: string;
    customerId: string;
    threadKey: string | null;
    subject: string | null;
  }>(
    db,
    sql`SELECT id::text AS id, status, customer_id::text AS "customerId", thread_key AS "threadKey", subject
        FROM conversations WHERE workspace_id = ${workspaceId} ORDER BY created_at, id`,
  );
}

export async function deliveryState(db: Db, workspaceId: string, id: string): Promise<string | undefined> {
  const [row] = await rows<{ state: string }>(
    db,
    sql`SELECT state FROM deliveries WHERE workspace_id = ${workspaceId} AND id = ${id}`,
  );
  return row?.state;
}

export async function suppressed(db: Db, workspaceId: string, address: string): Promise<string[]> {
  const found = await rows<{ reason: string }>(
    db,
    sql`SELECT reason FROM suppressions WHERE workspace_id = ${workspaceId} AND channel = 'email' AND address = ${address}`,
  );
  return found.map((r) => r.reason);
}

/**
 * The inbound mail listener on a free local port, with its own attachment store, and a mail
 * client that sends to it as a customer's mail server would.
 */
export async function startTestListener(database: Database): Promise<{
  listener: SmtpListener;
  client: Transporter;
  store: AttachmentStore;
  close: () => Promise<void>;
}> {
  const { store, dir } = tempStore();
  const listener = await startSmtpListener({
    database,
    config: { defaultCountry: "US", dataDir: dir },
    logger: pino({ level: "silent" }),
    port: 0,
    host: "127.0.0.1",
    store,
    closeTimeoutMs: 200,
  });
  const client = nodemailer.createTransport({
    host: "127.0.0.1",
    port: listener.port,
    secure: false,
    ignoreTLS: true,
  });
  return {
    listener,
    client,
    store,
    close: async () => {
      client.close();
      await listener.close();
    },
  };
}
