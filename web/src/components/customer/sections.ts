import { type ComponentType, lazy } from "react";
import type { CustomerDetail } from "./customer-api.ts";

/** What every section of the customer 360 is given. */
export type SectionProps = {
  customer: CustomerDetail;
  /** The customer page: more rows a page, and room to spread. */
  full: boolean;
  /** The heading level of the section's own sub-headings. */
  level: 3 | 4;
  /** The conversation the panel sits beside (left out of "other conversations"). */
  currentConversationId?: string | undefined;
};

/** One section: its key (its title lives in strings/customer.ts under `sections`) and its body. */
export type CustomerSection = { key: string; Body: ComponentType<SectionProps> };

const named = <K extends string>(load: () => Promise<Record<K, ComponentType<SectionProps>>>, name: K) =>
  lazy(() => load().then((m) => ({ default: m[name] })));

// The sections in order. A new one (subscription, loyalty, surveys…) is one more entry here and
// one title in the strings; its body mounts, and so loads its data, only when it is opened.
export const SECTIONS: CustomerSection[] = [
  { key: "identities", Body: named(() => import("./IdentitiesSection.tsx"), "IdentitiesSection") },
  { key: "traits", Body: named(() => import("./TraitsSection.tsx"), "TraitsSection") },
  { key: "consent", Body: named(() => import("./ConsentSection.tsx"), "ConsentSection") },
  { key: "events", Body: named(() => import("./EventsSection.tsx"), "EventsSection") },
  { key: "conversations", Body: named(() => import("./ConversationsSection.tsx"), "ConversationsSection") },
  { key: "deliveries", Body: named(() => import("./DeliveriesSection.tsx"), "DeliveriesSection") },
];
