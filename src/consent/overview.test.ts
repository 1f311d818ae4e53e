import { describe, expect, it } from "vitest";
import type { ConsentStateRow, TopicRule } from "./effective.ts";
import { consentMatrix } from "./ledger.ts";

const promotions: TopicRule = {
  id: "t-promo",
  kind: "marketing",
  defaults: { email: "opt_out", push: "opt_out", sms: "opt_in" },
};
const news: TopicRule = { id: "t-news", kind: "marketing", defaults: { email: "opt_out" } };

const row = (
  channel: ConsentStateRow["channel"],
  topic: string,
  status: ConsentStateRow["status"],
  at: number,
) => ({
  channel,
  topic,
  status,
  at,
});

describe("consent overview (effective consent per topic × channel)", () => {
  it("shows the defaults when the customer said nothing; channels a topic does not list are opt-in", () => {
    const m = consentMatrix([promotions], [], false).get("t-promo");
    expect(m?.email).toEqual({ subscribed: true, source: "default" });
    expect(m?.sms).toEqual({ subscribed: false, source: "default" });
    expect(m?.whatsapp).toEqual({ subscribed: false, source: "default" });
  });

  it("makes every default opt-in in an opt-in country", () => {
    const m = consentMatrix([promotions], [], true).get("t-promo");
    expect(m?.email).toEqual({ subscribed: false, source: "default" });
    expect(m?.push).toEqual({ subscribed: false, source: "default" });
  });

  it("lets the newer of the topic's entry and the channel-wide entry win", () => {
    // channel-wide unsubscribe, then a topic re-subscribe: the topic wins for that topic only
    const states = [row("email", "*", "unsubscribed", 1000), row("email", "t-promo", "subscribed", 2000)];
    const m = consentMatrix([promotions, news], states, false);
    expect(m.get("t-promo")?.email).toEqual({ subscribed: true, source: "topic" });
    expect(m.get("t-news")?.email).toEqual({ subscribed: false, source: "channel" });
    // the reverse order: the newer channel-wide entry overrides the older topic choice
    const later = [row("email", "t-promo", "subscribed", 1000), row("email", "*", "unsubscribed", 2000)];
    expect(consentMatrix([promotions], later, false).get("t-promo")?.email).toEqual({
      subscribed: false,
      source: "channel",
    });
  });

  it("lets an explicit choice beat the opt-in country rule, and leaves other channels alone", () => {
    const m = consentMatrix([promotions], [row("sms", "t-promo", "subscribed", 5)], true).get("t-promo");
    expect(m?.sms).toEqual({ subscribed: true, source: "topic" });
    expect(m?.email).toEqual({ subscribed: false, source: "default" });
  });
});
