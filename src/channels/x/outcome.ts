/** What became of one tweet or DM of an Account Activity post. */
export type XItemOutcome = {
  /** The tweet id or DM event id. */
  id: string;
  kind: "tweet" | "dm";
  outcome: "stored" | "duplicate" | "ignored";
  /** Why an event was ignored (a retweet, a reply Rapport sent, not addressed to the brand…). */
  reason?: string;
  direction?: "inbound" | "outbound";
  conversationId?: string;
  opened?: boolean;
};

/** An ignored event, with the reason (kept in the answer to X, which helps when setting up). */
export function ignored(kind: XItemOutcome["kind"], id: string, reason: string): XItemOutcome {
  return { id, kind, outcome: "ignored", reason };
}

/** A stored (or replayed) event, from `receiveInbound`'s answer. */
export function stored(
  kind: XItemOutcome["kind"],
  id: string,
  direction: "inbound" | "outbound",
  result: { duplicate: boolean; conversationId: string; opened: boolean },
): XItemOutcome {
  return {
    id,
    kind,
    outcome: result.duplicate ? "duplicate" : "stored",
    direction,
    conversationId: result.conversationId,
    opened: result.opened,
  };
}
