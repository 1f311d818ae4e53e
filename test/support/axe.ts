import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";

/**
 * Waits until the page has settled: no finite CSS animation or transition has run for 200 ms.
 * It looks for at most 3 s, and a running one is waited out to its end (the app's last a few
 * hundred ms). axe reads colours as drawn, so a tooltip or popover caught mid-fade would show
 * a contrast the agent never sees at rest; a transition may start some frames after its element
 * mounts, hence the quiet window rather than one look.
 */
export async function settled(page: Page): Promise<void> {
  // a string, since the test code is not compiled against the DOM's types
  await page.evaluate(`(async () => {
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const moving = () => document.getAnimations().filter((a) =>
      a.playState === "running" && Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity));
    const start = performance.now();
    let quietSince = performance.now();
    while (performance.now() - start < 3000) {
      await frame();
      const now = performance.now();
      const running = moving();
      if (running.length > 0) {
        await Promise.all(running.map((a) => a.finished.catch(() => undefined)));
        quietSince = performance.now();
      } else if (now - quietSince >= 200) return;
    }
  })()`);
}

/**
 * No serious or critical accessibility violation, as axe sees the settled page. `what` names
 * the step in the message; `exclude` leaves out what the app does not draw (an email's own
 * markup in its sandboxed frame).
 */
export async function expectAccessible(
  page: Page,
  what?: string,
  opts: { exclude?: string[] } = {},
): Promise<void> {
  await settled(page);
  let builder = new AxeBuilder({ page });
  for (const selector of opts.exclude ?? []) builder = builder.exclude(selector);
  const result = await builder.analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map(
      (v) =>
        `${what ? `${what}: ` : ""}${v.id}: ${v.help} (${v.nodes
          .map((n) => `${n.target.join(" ")} ${n.failureSummary ?? ""} ${n.html}`)
          .join(", ")})`,
    ),
  ).toEqual([]);
}
