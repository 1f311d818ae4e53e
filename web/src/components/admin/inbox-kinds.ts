import { a } from "../../strings/admin.ts";

// What an inbox of each kind asks for: its own address and the provider settings the server
// keeps in `config`. Checks here catch the obvious (a missing field, a number without +);
// the server checks the rest (URLs, numbers in settings) and its message is shown as said.

export const INBOX_KINDS = [
  "sms",
  "whatsapp",
  "voice",
  "email",
  "messenger",
  "instagram",
  "x",
  "chat",
  "api",
] as const;
export type InboxKind = (typeof INBOX_KINDS)[number];

export type Field = {
  /** "address", or a path in config ("greeting.en"). */
  key: string;
  label: () => string;
  hint?: () => string;
  required?: boolean;
  secret?: boolean;
  type?: "text" | "checkbox" | "list";
  initial?: () => string;
  check?: (value: string) => string | undefined;
};

const E164 = /^\+[1-9]\d{1,14}$/;
const phone = (v: string) => (E164.test(v) ? undefined : a.checks.phone);
const accountSid = (v: string) => (/^AC[0-9a-fA-F]{32}$/.test(v) ? undefined : a.checks.accountSid);
const serviceSid = (v: string) => (/^MG[0-9a-fA-F]{32}$/.test(v) ? undefined : a.checks.serviceSid);
const email = (v: string) => (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? undefined : a.checks.email);

function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

const f = (key: string, more: Omit<Field, "key" | "label" | "hint"> = {}): Field => ({
  key,
  label: () => a.fields[key] ?? key,
  hint: a.hints[key] === undefined ? undefined : () => a.hints[key] ?? "",
  ...more,
});

const twilio = [
  f("accountSid", { required: true, check: accountSid }),
  f("authToken", { required: true, secret: true }),
];
const meta = (address: string) => [
  f(address, { required: true }),
  f("appSecret", { required: true, secret: true }),
  f("verifyToken", { required: true, initial: randomToken }),
  f("pageAccessToken", { secret: true }),
];

export const KIND_FIELDS: Record<InboxKind, Field[]> = {
  sms: [
    f("address", { required: true, check: phone }),
    ...twilio,
    f("messagingServiceSid", { check: serviceSid }),
  ],
  whatsapp: [f("address", { required: true, check: phone }), ...twilio],
  voice: [
    f("address", { required: true, check: phone }),
    ...twilio,
    f("agentNumber"),
    f("greeting"),
    f("record", { type: "checkbox" }),
  ],
  email: [f("emailAddress", { required: true, check: email }), f("replyDomain")],
  messenger: meta("pageId"),
  instagram: meta("instagramId"),
  x: [
    f("handle", { required: true }),
    f("consumerSecret", { required: true, secret: true }),
    f("userId"),
    f("accessToken", { secret: true }),
  ],
  chat: [f("color"), f("allowedOrigins", { type: "list" }), f("greeting.en")],
  api: [f("webhookUrl"), f("allowPrivate", { type: "checkbox" })],
};

// these fields are the inbox's own address, under a name that fits the kind
const ADDRESS_KEYS = new Set(["address", "emailAddress", "pageId", "instagramId", "handle"]);

/** The body of `POST /api/v1/inboxes` from the form's values; empty optional fields are left out. */
export function inboxBody(
  kind: InboxKind,
  common: { name: string; assignment: string; teamId: string },
  values: Record<string, string | boolean>,
) {
  const config: Record<string, unknown> = {};
  let address: string | undefined;
  for (const field of KIND_FIELDS[kind]) {
    const v = values[field.key];
    if (v === undefined || v === "" || v === false) continue;
    if (ADDRESS_KEYS.has(field.key)) {
      address = String(v).trim();
      continue;
    }
    const value =
      field.type === "list"
        ? String(v)
            .split(/[\s,]+/)
            .filter(Boolean)
        : typeof v === "string"
          ? v.trim()
          : v;
    const path = field.key.split(".");
    let at = config;
    for (const part of path.slice(0, -1)) {
      const next: Record<string, unknown> = {};
      at[part] = next;
      at = next;
    }
    at[path[path.length - 1] ?? field.key] = value;
  }
  return {
    kind,
    name: common.name.trim(),
    ...(address ? { address } : {}),
    config,
    assignment: common.assignment,
    ...(common.teamId ? { teamId: common.teamId } : {}),
  };
}

/** The first problem the form can see by itself, per field. */
export function checkInbox(
  kind: InboxKind,
  name: string,
  values: Record<string, string | boolean>,
  opts: { keepSecrets?: boolean } = {},
) {
  const errors: Record<string, string> = {};
  if (name.trim() === "") errors.name = a.checks.required;
  for (const field of KIND_FIELDS[kind]) {
    const v = values[field.key];
    const text = typeof v === "string" ? v.trim() : "";
    if (field.type === "checkbox") continue;
    if (text === "") {
      // editing, an empty secret keeps the one saved
      if (field.required && !(opts.keepSecrets && field.secret)) errors[field.key] = a.checks.required;
      continue;
    }
    const problem = field.check?.(text);
    if (problem) errors[field.key] = problem;
  }
  return errors;
}

/** The form's values for an inbox as it is: its address and settings (secrets left empty: kept unless typed). */
export function inboxValues(
  kind: InboxKind,
  inbox: { address: string | null; config: Record<string, unknown> },
) {
  const values: Record<string, string | boolean> = {};
  for (const field of KIND_FIELDS[kind]) {
    if (ADDRESS_KEYS.has(field.key)) {
      values[field.key] = inbox.address ?? "";
      continue;
    }
    let v: unknown = inbox.config;
    for (const part of field.key.split("."))
      v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    if (field.type === "checkbox") values[field.key] = v === true;
    else if (field.secret) values[field.key] = "";
    else if (Array.isArray(v)) values[field.key] = v.join(", ");
    else values[field.key] = typeof v === "string" || typeof v === "number" ? String(v) : "";
  }
  return values;
}

/**
 * The body of `PATCH /api/v1/inboxes/:id` from the form: the settings the form shows, an
 * emptied one removed (null), a secret left empty kept as it is.
 */
export function inboxPatch(
  kind: InboxKind,
  common: { name: string; assignment: string; teamId: string },
  values: Record<string, string | boolean>,
) {
  const body = inboxBody(kind, common, values);
  const config: Record<string, unknown> = { ...body.config };
  for (const field of KIND_FIELDS[kind]) {
    if (ADDRESS_KEYS.has(field.key) || field.secret) continue;
    const top = field.key.split(".")[0] ?? field.key;
    if (config[top] === undefined) config[top] = field.type === "checkbox" ? false : null;
  }
  return {
    name: body.name,
    address: body.address ?? null,
    config,
    assignment: body.assignment,
    teamId: common.teamId || null,
  };
}
