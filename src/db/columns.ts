import { timestamp } from "drizzle-orm/pg-core";

/** A `timestamp with time zone` column: every time Rapport stores is an instant. */
export const tz = (name: string) => timestamp(name, { withTimezone: true });
