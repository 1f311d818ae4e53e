import { Alert, Loader, Text } from "@mantine/core";
import { useConversation } from "../../queries.ts";
import { followLink, pathFor } from "../../route.ts";
import { cs } from "../../strings/customer.ts";
import { Customer360 } from "./Customer360.tsx";
import { useCustomer } from "./customer-api.ts";

/** The customer 360 beside a conversation: summary and identities at once, the rest on demand. */
export function CustomerPanel({ conversationId }: { conversationId: string }) {
  const conversation = useConversation(conversationId);
  const customer = useCustomer(conversation.data?.customerId);
  // a failed refresh keeps what was shown (and the sections the agent opened)
  const error = customer.data ? null : (conversation.error ?? customer.error);
  if (error) {
    return (
      <div className="customer-panel c360-panel">
        <Alert color="red" role="alert">
          {cs.loadFailed(error.message)}
        </Alert>
      </div>
    );
  }
  if (!customer.data) {
    return (
      <div className="customer-panel c360-panel c360-loading" role="status">
        <Loader size="xs" aria-hidden />
        <Text size="sm">{cs.loading}</Text>
      </div>
    );
  }
  const to = { page: "customer" as const, id: customer.data.id };
  return (
    <div className="customer-panel c360-panel">
      <Customer360
        customer={customer.data}
        full={false}
        currentConversationId={conversationId}
        initiallyOpen={["identities"]}
        actions={
          <a href={pathFor(to)} onClick={(e) => followLink(e, to)} className="c360-link c360-open-page">
            {cs.openPage}
          </a>
        }
      />
    </div>
  );
}
