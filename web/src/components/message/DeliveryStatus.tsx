import { Button } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import * as z from "zod/mini";
import { api, type Message } from "../../api.ts";
import { t } from "../../i18n.ts";
import { keys } from "../../queries.ts";
import { tm } from "../../strings/message.ts";

const FAILED = new Set(["failed", "bounced"]);
const Retried = z.object({ messageId: z.string(), deliveryId: z.string(), deliveryState: z.string() });

/**
 * Where an agent's reply stands (sent, delivered, read…), updated live as the provider tells;
 * a failed or bounced one says why and can be sent again.
 */
export function DeliveryStatus({ message: m }: { message: Message }) {
  const client = useQueryClient();
  const retry = useMutation({
    mutationFn: () =>
      api(
        Retried,
        `/api/v1/conversations/${encodeURIComponent(m.conversationId)}/messages/${encodeURIComponent(m.id)}/retry`,
        { method: "POST" },
      ),
    onSettled: () => client.invalidateQueries({ queryKey: keys.messages(m.conversationId) }),
  });
  const state = m.deliveryState;
  const failed = state !== null && FAILED.has(state);
  return (
    <>
      <div className="message-state" data-delivery-state={state ?? ""}>
        <span className={failed ? "message-state-failed" : undefined}>{t.delivery(state)}</span>
      </div>
      {failed ? (
        <div className="message-failure" role="alert">
          {m.deliveryError ? <span>{tm.failedBecause(m.deliveryError)}</span> : null}
          <Button
            size="compact-xs"
            variant="outline"
            color="red.9"
            loading={retry.isPending}
            onClick={() => retry.mutate()}
          >
            {tm.retry}
          </Button>
        </div>
      ) : null}
      {retry.isError ? (
        <div className="message-failure" role="alert">
          {tm.retryFailed(retry.error.message)}
        </div>
      ) : null}
    </>
  );
}
