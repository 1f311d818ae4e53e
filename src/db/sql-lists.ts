import { type SQL, sql } from "drizzle-orm";

// Lists travel as one JSON parameter: the same SQL text for any length (no parameter-count
// ceiling, one cached plan), and `= ANY(ARRAY(...))` is an init-plan the planner turns into an
// index scan however stale the table's statistics are (an `IN (SELECT …)` over a fresh,
// unanalysed table gets a hash join over the whole workspace instead).

/** `ARRAY[...]::uuid[]` of the given ids, for `column = ANY(...)`. */
export function uuidList(ids: Iterable<string>): SQL {
  return sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify([...ids])}::jsonb)::uuid)`;
}

/** `ARRAY[...]::text[]` of the given strings, for `column = ANY(...)`. */
export function textList(values: Iterable<string>): SQL {
  return sql`ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify([...values])}::jsonb))`;
}

/** A JSON array parameter, for `jsonb_array_elements` / `jsonb_to_recordset`. */
export function jsonParam(value: unknown): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}
