import { SegmentedControl, Text } from "@mantine/core";
import type { Conversation } from "../../api.ts";
import { tc } from "../../strings/conversation.ts";
import { smsSegments, xLength } from "./sms-segments.ts";

/** X's limits: a public reply is a post (280 characters), a private one a DM (10,000). */
export function xLimit(visibility: "public" | "private", publicThread: boolean): number {
  return publicThread && visibility === "public" ? 280 : 10_000;
}

/** What the channel asks of a reply: SMS parts, X's limit. */
export function ChannelHints({
  c,
  text,
  note,
  visibility,
  publicThread,
  id,
}: {
  c: Conversation;
  text: string;
  note: boolean;
  visibility: "public" | "private";
  publicThread: boolean;
  id: string;
}) {
  if (note) return null;
  // email's recipient, subject and copies are fields of their own (EmailFields)
  if (c.channel === "sms") {
    const count = smsSegments(text);
    return (
      <Text size="sm" className="channel-hint sms-count" id={id} data-segments={count.segments}>
        {tc.smsCount(Array.from(text).length, count.segments, count.encoding)}
      </Text>
    );
  }
  if (c.channel === "x") {
    const limit = xLimit(visibility, publicThread);
    const n = xLength(text);
    const over = n - limit;
    return (
      <Text size="sm" className="channel-hint x-count" id={id} data-over={over > 0}>
        {tc.xCount(n, limit)}
        {over > 0 ? (
          <span role="alert" className="over-limit">
            {" "}
            {tc.xOver(over)}
          </span>
        ) : null}
      </Text>
    );
  }
  return null;
}

/** Public or private reply, for a comment or a public post. */
export function VisibilityChoice({
  value,
  onChange,
}: {
  value: "public" | "private";
  onChange: (v: "public" | "private") => void;
}) {
  return (
    <SegmentedControl
      size="xs"
      aria-label={tc.visibility}
      value={value}
      onChange={(v) => onChange(v === "private" ? "private" : "public")}
      data={[
        { value: "public", label: tc.visibilityPublic },
        { value: "private", label: tc.visibilityPrivate },
      ]}
    />
  );
}
