import { z } from "zod";

/** Owners run the workspace (and its owners); admins manage users and settings; agents answer customers. */
export const Role = z.enum(["owner", "admin", "agent"]);
export type Role = z.infer<typeof Role>;

export const UserStatus = z.enum(["active", "invited", "disabled"]);
export type UserStatus = z.infer<typeof UserStatus>;

/** Who acts on the platform: a user with a role, or an API key that acts as the whole workspace. */
export type Actor =
  | { kind: "user"; id: string; role: Role }
  | { kind: "api_key"; id: string }
  | { kind: "system" };
