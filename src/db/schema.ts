// Every table of every module, for drizzle's typed queries and for drizzle-kit.

export * from "../consent/tables.ts";
export * from "../conversations/canned-tables.ts";
export * from "../conversations/tables.ts";
export * from "../delivery/tables.ts";
export * from "../jobs/tables.ts";
export * from "../platform/tables.ts";
export * from "../profiles/tables.ts";
