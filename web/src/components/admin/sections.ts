// The settings' sections, in the order the side navigation lists them (each is /inbox/admin/<id>).
export const SECTIONS = [
  "inboxes",
  "topics",
  "teams",
  "agents",
  "canned",
  "api-keys",
  "webhooks",
  "outbox",
] as const;
export type SectionId = (typeof SECTIONS)[number];

/** The section an address names; the first one when it names none or an unknown one. */
export function sectionOf(section: string | undefined): SectionId | undefined {
  if (section === undefined || section === "") return "inboxes";
  return SECTIONS.find((s) => s === section);
}
