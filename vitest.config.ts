import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["./test/support/global-setup.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // reruns hide flakiness; a failing test fails
    retry: 0,
    // expect.poll waits for what must come to hold; how soon it holds is a benchmark's figure.
    // A loaded machine may take more than vitest's default second; a wrong state still fails.
    expect: { poll: { timeout: 10_000 } },
  },
});
