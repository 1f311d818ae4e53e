import { z } from "zod";
import { Role, UserStatus } from "./roles.ts";

// The platform's public shapes, as the REST API presents them (and the web app will read
// them). Each is one zod schema: the type, the response filter and the OpenAPI entry.

export const ErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const UserView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: Role,
  status: UserStatus,
  createdAt: z.date(),
  lastSignInAt: z.date().nullable(),
});
export type UserView = z.infer<typeof UserView>;

export const WorkspaceView = z.object({
  id: z.uuid(),
  slug: z.string(),
  name: z.string(),
  createdAt: z.date(),
});
export type WorkspaceView = z.infer<typeof WorkspaceView>;

export const SignedInView = z.object({ user: UserView, workspace: WorkspaceView });

export const ApiKeyView = z.object({
  id: z.uuid(),
  kind: z.enum(["write", "secret"]),
  name: z.string(),
  hint: z.string().describe("The first and last characters of the key, to tell keys apart; never the key."),
  createdBy: z.uuid().nullable(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
  revokedAt: z.date().nullable(),
});

export const AuditEntryView = z.object({
  id: z.uuid(),
  actorKind: z.enum(["user", "api_key", "system"]),
  actorId: z.string().nullable(),
  action: z.string(),
  targetKind: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  createdAt: z.date(),
});
