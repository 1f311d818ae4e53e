import { Text } from "@mantine/core";
import { t } from "../../i18n.ts";
import { useConversation } from "../../queries.ts";

/** The customer 360 beside a conversation. */
export function CustomerPanel({ conversationId }: { conversationId: string }) {
  const conversation = useConversation(conversationId);
  return (
    <div className="customer-panel">
      <h2 className="panel-title">{t.customer}</h2>
      <Text size="sm">{conversation.data?.customerName ?? conversation.data?.contactAddress ?? ""}</Text>
    </div>
  );
}
