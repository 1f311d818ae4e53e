import type { Channel, DefaultConsent } from "./tables.ts";

/** A customer's recorded consent on one channel, for one topic or the whole channel ('*'). */
export type ConsentStateRow = {
  channel: Channel;
  /** A topic id, or '*' for every topic of the channel. */
  topic: string;
  status: "subscribed" | "unsubscribed";
  /** When it was recorded (ms since the epoch): the newer of topic and channel wins. */
  at: number;
};

export type TopicRule = {
  id: string;
  kind: "marketing" | "transactional";
  defaults: Partial<Record<Channel, DefaultConsent>>;
};

/**
 * Whether a customer is subscribed to `topic` on `channel`, as the Gate and the preference
 * center both read it: the newer of the topic's own entry and the channel-wide entry; with
 * neither, the topic's default on that channel, forced to opt-in in opt-in countries (and
 * opt-in for channels the topic does not list).
 */
export function effectiveConsent(
  states: readonly ConsentStateRow[],
  topic: TopicRule,
  channel: Channel,
  optInCountry: boolean,
): { subscribed: boolean; source: "topic" | "channel" | "default" } {
  let best: ConsentStateRow | undefined;
  for (const s of states) {
    if (s.channel !== channel || (s.topic !== topic.id && s.topic !== "*")) continue;
    // on a tie the topic's own entry wins: it is the more specific choice
    if (!best || s.at > best.at || (s.at === best.at && s.topic !== "*")) best = s;
  }
  if (best)
    return { subscribed: best.status === "subscribed", source: best.topic === "*" ? "channel" : "topic" };
  const def = optInCountry ? "opt_in" : (topic.defaults[channel] ?? "opt_in");
  return { subscribed: def === "opt_out", source: "default" };
}
