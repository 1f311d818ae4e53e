import type { App } from "../../src/http/app.ts";
import { uuidv7 } from "../../src/ids.ts";
import { hashPassword } from "../../src/platform/passwords.ts";
import type { Role } from "../../src/platform/roles.ts";
import { createUser } from "../../src/platform/users.ts";
import { createTestWorkspace } from "./factories.ts";

export const PASSWORD = "correct horse battery staple";

/** A fresh workspace with a member of the given role, signed in through the API; returns its session cookie. */
export async function signedIn(app: App, role: Role) {
  const ws = await createTestWorkspace(app.ctx.database);
  const email = `${role}-${uuidv7().slice(-12)}@example.com`;
  const user = await createUser(app.ctx.database.db, {
    workspaceId: ws.workspace.id,
    email,
    role,
    status: "active",
    passwordHash: await hashPassword(PASSWORD),
  });
  const res = await app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password: PASSWORD },
  });
  const cookie = res.cookies.find((c) => c.name === "rapport_session")?.value;
  if (!cookie) throw new Error(`sign-in failed: ${res.body}`);
  return { ...ws, user, cookies: { rapport_session: cookie } };
}
