import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

// Debian's chromium, driven by playwright-core. CI installs it and sets RAPPORT_REQUIRE_BROWSER
// so a missing browser fails there; a machine without it skips the browser tests, saying why.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether the browser tests can run here (they skip with this reason when not). */
export const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.RAPPORT_REQUIRE_BROWSER) throw new Error(`no browser at ${CHROMIUM}`);

/** A headless chromium for one test file. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
}
