import * as z from "zod/mini";

// What the simulator asks for on each channel, and the shapes of its API.

export const SimInbox = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  channel: z.optional(z.nullable(z.string())),
  address: z.optional(z.nullable(z.string())),
  addressKind: z.optional(z.enum(["phone", "email", "psid", "handle", "visitor"])),
  example: z.optional(z.string()),
  supports: z.optional(
    z.object({ subject: z.boolean(), inReplyTo: z.boolean(), postId: z.boolean(), mention: z.boolean() }),
  ),
});
export type SimInbox = z.infer<typeof SimInbox>;
export const SimInboxList = z.object({ data: z.array(SimInbox) });
export const SimSent = z.object({ conversationId: z.string(), messageId: z.string() });

export type SimKind = "phone" | "email" | "psid" | "handle" | "visitor";

/** Which kind of customer address an inbox takes (as the server says, else by its kind). */
export function addressKind(inbox: { kind: string; addressKind?: SimKind | undefined }): SimKind {
  if (inbox.addressKind) return inbox.addressKind;
  switch (inbox.kind) {
    case "sms":
    case "whatsapp":
    case "voice":
      return "phone";
    case "email":
    case "api":
      return "email";
    case "messenger":
    case "instagram":
      return "psid";
    case "x":
      return "handle";
    default:
      return "visitor";
  }
}

/** What a message to this inbox may add: a subject and a thread (email), a post (social), a mention (X). */
export function supportsOf(inbox: SimInbox | undefined) {
  const kind = inbox?.kind ?? "";
  return (
    inbox?.supports ?? {
      subject: kind === "email",
      inReplyTo: kind === "email",
      postId: kind === "messenger" || kind === "instagram" || kind === "x",
      mention: kind === "x",
    }
  );
}

const digits = (n: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => String(b % 10)).join("");

/** A plausible new customer address for a channel, so one click plays a new customer. */
export function sampleAddress(kind: SimKind): string {
  switch (kind) {
    case "phone":
      return `+1415555${digits(4)}`;
    case "email":
      return `customer-${digits(4)}@example.com`;
    case "psid":
      return digits(16).replace(/^0/, "1");
    case "handle":
      return `customer_${digits(4)}`;
    case "visitor":
      return `visitor-${digits(6)}`;
  }
}

/** The first problem with an address the form can see by itself. */
export function addressProblem(kind: SimKind, address: string): "phone" | "email" | "psid" | undefined {
  // a number without + is read in the workspace's country by the server
  if (kind === "phone" && !/^\+?[\d\s().-]{4,20}$/.test(address)) return "phone";
  if (kind === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) return "email";
  if (kind === "psid" && !/^\d{5,32}$/.test(address)) return "psid";
  return undefined;
}
