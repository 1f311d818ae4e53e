import { type SQL, sql } from "drizzle-orm";

// Lists travel as one JSON parameter: the same SQL text for any length, no parameter-count
// ceiling, one cached plan.
//
// To find rows by a list of keys, join `eachValue(list)` with a LATERAL subquery that probes
// the index once per value. `column = ANY(list)` looks the same but leaves the choice to the
// planner, and over a workspace the statistics do not know yet (a new tenant, a table not
// analysed since a burst of inserts) it picks a scan of the whole workspace with the list as
// a filter: one comparison per row and per value, a cost that grows with the workspace.

/** The values as rows `x(v text, n bigint)`, in the given order, for `CROSS JOIN LATERAL` probes. */
export function eachValue(values: Iterable<string>): SQL {
  return sql`jsonb_array_elements_text(${JSON.stringify([...values])}::jsonb) WITH ORDINALITY AS x(v, n)`;
}

/** A JSON array parameter, for `jsonb_array_elements` / `jsonb_to_recordset`. */
export function jsonParam(value: unknown): SQL {
  return sql`${JSON.stringify(value)}::jsonb`;
}
