// Every table of every module, for drizzle's typed queries and for drizzle-kit.
export * from "../jobs/tables.ts";
export * from "../platform/tables.ts";
export * from "../profiles/tables.ts";
