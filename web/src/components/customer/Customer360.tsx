import { Accordion, Loader, Text } from "@mantine/core";
import { type ReactNode, Suspense, useState } from "react";
import { cs } from "../../strings/customer.ts";
import "./customer.css";
import { CustomerHeader } from "./CustomerHeader.tsx";
import type { CustomerDetail } from "./customer-api.ts";
import { SECTIONS } from "./sections.ts";

type Props = {
  customer: CustomerDetail;
  /** The customer page (a page of its own) rather than the panel beside a conversation. */
  full: boolean;
  currentConversationId?: string | undefined;
  /** Sections open at first; the others load when the agent opens them. */
  initiallyOpen: string[];
  /** Shown under the header (a link to the customer page). */
  actions?: ReactNode;
};

/** The customer in full: a header, then every section folded, each loading once opened. */
export function Customer360({ customer, full, currentConversationId, initiallyOpen, actions }: Props) {
  const [open, setOpen] = useState<string[]>(initiallyOpen);
  const nameOrder = full ? 1 : 2;
  const sectionOrder = full ? 2 : 3;
  return (
    <div className="c360" data-full={full} data-customer-id={customer.id}>
      <CustomerHeader customer={customer} order={nameOrder} />
      {actions}
      <Accordion
        multiple
        value={open}
        onChange={setOpen}
        order={sectionOrder}
        variant="separated"
        chevronPosition="right"
        className="c360-sections"
        aria-label={cs.sectionsLabel}
      >
        {SECTIONS.map(({ key, Body }) => (
          <Accordion.Item key={key} value={key} data-c360-section={key}>
            <Accordion.Control>{cs.sections[key] ?? key}</Accordion.Control>
            <Accordion.Panel>
              {open.includes(key) ? (
                <Suspense
                  fallback={
                    <div role="status" className="c360-loading">
                      <Loader size="xs" aria-hidden />
                      <Text size="sm">{cs.loading}</Text>
                    </div>
                  }
                >
                  <Body
                    customer={customer}
                    full={full}
                    level={sectionOrder === 2 ? 3 : 4}
                    currentConversationId={currentConversationId}
                  />
                </Suspense>
              ) : null}
            </Accordion.Panel>
          </Accordion.Item>
        ))}
      </Accordion>
    </div>
  );
}
