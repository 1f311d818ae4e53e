import { useEffect, useState } from "react";
import { onLiveEvent } from "../../realtime.ts";
import { tm } from "../../strings/message.ts";
import "./message.css";

// the widget sends "typing" at most every two seconds while the visitor types
const HIDE_AFTER_MS = 6000;

/**
 * "Customer is typing…" while the chat visitor of this conversation types: shown on the
 * widget's typing event, hidden when they stop, send, or go quiet for a few seconds.
 */
export function TypingIndicator({ conversationId }: { conversationId: string }) {
  const [typing, setTyping] = useState(false);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = onLiveEvent((event) => {
      if (event.conversationId !== conversationId) return;
      if (event.type === "message.created" && event.direction === "inbound") {
        setTyping(false);
        return;
      }
      if (event.type !== "typing" || event.from !== "customer") return;
      if (timer) clearTimeout(timer);
      const on = event.typing !== false;
      setTyping(on);
      if (on) timer = setTimeout(() => setTyping(false), HIDE_AFTER_MS);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [conversationId]);
  // the live region stays in place, so a screen reader announces the words when they appear
  return (
    <div className="typing-indicator" role="status" aria-live="polite" data-typing={typing ? "" : undefined}>
      {typing ? tm.typing : null}
    </div>
  );
}
