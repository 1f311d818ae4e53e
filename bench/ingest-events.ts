export type Ev = Record<string, unknown>;

/** A realistic mix over a pool of users: mostly tracks and pages, some identifies, some anonymous visitors. */
export function makeEvents(n: number): Ev[] {
  const users = Math.max(50, Math.floor(n / 20));
  const out: Ev[] = [];
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const u = Math.floor(rnd() * users);
    const r = rnd();
    const base = {
      messageId: `bench-${i}`,
      timestamp: new Date(now - Math.floor(rnd() * 86_400_000)).toISOString(),
      context: { library: { name: "bench", version: "1" }, ip: "203.0.113.9", locale: "en-US" },
    };
    if (r < 0.7)
      out.push({
        ...base,
        type: "track",
        userId: `user-${u}`,
        event: "Song Played",
        properties: { track: `t${i % 500}`, ms: 1000 + (i % 9000) },
      });
    else if (r < 0.85)
      out.push({
        ...base,
        type: "page",
        userId: `user-${u}`,
        name: "Home",
        properties: { path: "/", referrer: "" },
      });
    else if (r < 0.9) out.push({ ...base, type: "screen", userId: `user-${u}`, name: "Player" });
    else if (r < 0.95)
      out.push({
        ...base,
        type: "identify",
        userId: `user-${u}`,
        traits: { email: `user-${u}@example.com`, plan: r < 0.93 ? "free" : "premium" },
      });
    else
      out.push({
        ...base,
        type: "track",
        anonymousId: `anon-${Math.floor(rnd() * users)}`,
        event: "Pricing Viewed",
      });
  }
  return out;
}
