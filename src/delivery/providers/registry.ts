import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Channel } from "../../consent/tables.ts";
import { type Db, rows } from "../../db/client.ts";
import { AppError } from "../../errors.ts";
import { PROVIDER_KINDS, type ProviderKind } from "../tables.ts";
import { createFcmProvider, FcmConfig } from "./fcm.ts";
import { createInAppProvider } from "./in-app.ts";
import { createSandboxProvider } from "./sandbox.ts";
import { createSmtpProvider, SmtpConfig } from "./smtp.ts";
import { createTwilioProvider, TwilioConfig } from "./twilio.ts";
import type { Provider } from "./types.ts";

// which provider kinds can carry which channel
const CARRIES: Record<ProviderKind, readonly Channel[] | "any"> = {
  sandbox: "any",
  smtp: ["email"],
  twilio: ["sms", "whatsapp"],
  fcm: ["push"],
  in_app: ["in_app"],
};

/**
 * Checks a provider setting before it is saved: the kind carries the channel and the config
 * parses (a Twilio account without a sender, an SMTP host without a from address…).
 */
export function validateProviderConfig(channel: Channel, kind: string, config: unknown): ProviderKind {
  const k = z.enum(PROVIDER_KINDS).safeParse(kind);
  if (!k.success) {
    throw new AppError(
      "delivery.unknown_provider",
      `Unknown provider "${kind}"; use one of ${PROVIDER_KINDS.join(", ")}.`,
    );
  }
  const carries = CARRIES[k.data];
  if (carries !== "any" && !carries.includes(channel)) {
    throw new AppError("delivery.provider_channel", `A ${k.data} provider cannot send on ${channel}.`);
  }
  const schema =
    k.data === "smtp" ? SmtpConfig : k.data === "twilio" ? TwilioConfig : k.data === "fcm" ? FcmConfig : null;
  const parsed = schema?.safeParse(config);
  if (parsed && !parsed.success) {
    throw new AppError("delivery.invalid_provider_config", z.prettifyError(parsed.error));
  }
  return k.data;
}

/** The provider a workspace configured for a channel, and its settings; undefined for none. */
export async function configuredProvider(
  db: Db,
  workspaceId: string,
  channel: Channel,
): Promise<{ kind: string; config: unknown; version: string } | undefined> {
  const [row] = await rows<{ kind: string; config: unknown; version: string }>(
    db,
    sql`SELECT kind, config, updated_at::text AS version FROM delivery_providers
        WHERE workspace_id = ${workspaceId} AND channel = ${channel}`,
  );
  return row;
}

// providers keep pools and tokens: one per workspace, channel and setting version
const cache = new Map<string, Provider>();

/**
 * The provider that sends a workspace's messages on a channel: the configured one, or the
 * sandbox when none is (every message it "sends" stays visible in the sandbox outbox).
 * In-app messages always go to the message center.
 */
export async function providerFor(db: Db, workspaceId: string, channel: Channel): Promise<Provider> {
  const row = await configuredProvider(db, workspaceId, channel);
  if (!row) return channel === "in_app" ? createInAppProvider(db) : createSandboxProvider();
  const key = `${workspaceId}|${channel}|${row.version}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const kind = validateProviderConfig(channel, row.kind, row.config);
  const provider =
    kind === "smtp"
      ? createSmtpProvider(SmtpConfig.parse(row.config))
      : kind === "twilio"
        ? createTwilioProvider(TwilioConfig.parse(row.config), channel === "whatsapp" ? "whatsapp" : "sms")
        : kind === "fcm"
          ? createFcmProvider(FcmConfig.parse(row.config))
          : kind === "in_app"
            ? createInAppProvider(db)
            : createSandboxProvider();
  if (cache.size > 1000) cache.clear();
  cache.set(key, provider);
  return provider;
}
