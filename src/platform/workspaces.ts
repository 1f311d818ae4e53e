import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { AppError } from "../errors.ts";
import { uuidv7 } from "../ids.ts";
import { workspaces } from "./tables.ts";

export type Workspace = typeof workspaces.$inferSelect;

/** Turns a name into a URL-safe slug: "Acme Care" → "acme-care". */
export function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return s || "workspace";
}

/** Creates a workspace; the slug must be free. */
export async function createWorkspace(
  db: Db,
  input: { name: string; slug?: string; settings?: Record<string, unknown> },
): Promise<Workspace> {
  const slug = input.slug ?? slugify(input.name);
  if (!/^[a-z0-9][a-z0-9-]{0,47}$/.test(slug)) {
    throw new AppError(
      "workspaces.invalid_slug",
      "A workspace slug is 1-48 lower-case letters, digits and dashes, starting with a letter or digit.",
      { slug },
    );
  }
  const [row] = await db
    .insert(workspaces)
    .values({ id: uuidv7(), name: input.name, slug, settings: input.settings ?? {} })
    .onConflictDoNothing()
    .returning();
  if (!row)
    throw new AppError("workspaces.already_exists", `A workspace with slug "${slug}" already exists.`, {
      slug,
    });
  return row;
}

export async function getWorkspaceBySlug(db: Db, slug: string): Promise<Workspace | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.slug, slug)).limit(1);
  return row;
}

export async function getWorkspace(db: Db, id: string): Promise<Workspace | undefined> {
  const [row] = await db.select().from(workspaces).where(eq(workspaces.id, id)).limit(1);
  return row;
}

export async function listWorkspaces(db: Db): Promise<Workspace[]> {
  return db.select().from(workspaces).orderBy(workspaces.createdAt);
}
