// reply and forward prefixes of the mail clients customers use (English, German, French,
// Nordic, Dutch, Italian, Spanish, Portuguese, Polish), with Outlook's "RE[2]:" counters
const PREFIX =
  /^\s*(?:(?:re|fwd?|aw|wg|tr|sv|vs|antw|doorst|rif|i|r|res|enc|odp|pd|ynt)(?:\s*\[\d+\])?\s*[:：]\s*|\[(?:ext|external|extern)\]\s*)/i;

/**
 * A subject as threads compare it: reply/forward prefixes stripped (any number, any order),
 * whitespace collapsed, lower case. "RE: Fwd: AW: Order #1042" and "order #1042" are equal.
 */
export function normalizeSubject(subject: string | undefined): string {
  let s = (subject ?? "").normalize("NFC");
  for (let guard = 0; guard < 50; guard++) {
    const stripped = s.replace(PREFIX, "");
    if (stripped === s) break;
    s = stripped;
  }
  return s.replace(/\s+/g, " ").trim().toLowerCase();
}
