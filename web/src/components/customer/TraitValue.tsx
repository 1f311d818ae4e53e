import { cs } from "../../strings/customer.ts";

const FOLD_AT = 80;

/** A value as text: short ones inline, long ones and JSON folded behind a disclosure. */
export function TraitValue({ value }: { value: unknown }) {
  const text = typeof value === "string" ? value : (JSON.stringify(value, null, 2) ?? String(value));
  const structured = value !== null && typeof value === "object";
  if (!structured && text.length <= FOLD_AT) return <span className="c360-value">{text}</span>;
  return (
    <details className="c360-fold">
      <summary>
        <span className="c360-value">{text.replace(/\s+/g, " ").slice(0, 40)}…</span>
        <span className="c360-visually-hidden"> {cs.showValue}</span>
      </summary>
      <pre className="c360-pre">{text}</pre>
    </details>
  );
}
