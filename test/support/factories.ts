import pino from "pino";
import { loadConfig } from "../../src/config.ts";
import type { AppContext } from "../../src/context.ts";
import type { Database } from "../../src/db/client.ts";
import { testDatabase } from "../../src/db/testing.ts";
import type { App } from "../../src/http/app.ts";
import { uuidv7 } from "../../src/ids.ts";
import { createApiKey } from "../../src/platform/api-keys.ts";
import { createWorkspace, type Workspace } from "../../src/platform/workspaces.ts";

export type TestWorkspace = { workspace: Workspace; secretKey: string; writeKey: string };

/** A fresh workspace with one secret key and one write key, so a test owns all its rows. */
export async function createTestWorkspace(database?: Database): Promise<TestWorkspace> {
  const { db } = database ?? (await testDatabase());
  const tag = uuidv7().slice(-12);
  const workspace = await createWorkspace(db, { name: `Test ${tag}`, slug: `test-${tag}` });
  const secret = await createApiKey(db, { workspaceId: workspace.id, kind: "secret" });
  const write = await createApiKey(db, { workspaceId: workspace.id, kind: "write" });
  return { workspace, secretKey: secret.token, writeKey: write.token };
}

/** A context for tests: the test database, a silent logger, default configuration. */
export async function testContext(env: NodeJS.ProcessEnv = {}): Promise<AppContext> {
  const config = loadConfig({ LOG_LEVEL: "silent", RAPPORT_DATA_DIR: "./.rapport-test-unused", ...env });
  return { config, database: await testDatabase(), logger: pino({ level: "silent" }) };
}

/** The HTTP app over the test database, ready for `app.inject`. */
export async function testApp(env: NodeJS.ProcessEnv = {}): Promise<App> {
  // imported on demand so domain tests do not load every route
  const { buildApp } = await import("../../src/http/app.ts");
  const app = await buildApp(await testContext(env));
  await app.ready();
  return app;
}
