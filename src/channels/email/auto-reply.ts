/** The header values an auto-reply check reads (first value of each, as received). */
export type HeaderLookup = (name: string) => string | undefined;

// what out-of-office and vacation responders put in a subject, in the languages customers write in
const AUTO_SUBJECT =
  /^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|away from (?:the )?office|on vacation|vacation reply|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence du bureau|respuesta autom[áa]tica|fuera de la oficina|risposta automatica|fuori ufficio|automatisch antwoord|afwezigheidsbericht)\b/i;

/**
 * Why an email is an automatic answer rather than a person writing (RFC 3834 `Auto-Submitted`,
 * the `X-Autoreply`/`X-Autorespond` headers of common responders, `Precedence` bulk/junk/auto_reply,
 * out-of-office subjects), or undefined for a person's mail.
 */
export function autoReplyReason(header: HeaderLookup, subject: string | undefined): string | undefined {
  const submitted = header("auto-submitted")?.split(";")[0]?.trim().toLowerCase();
  if (submitted && submitted !== "no") return `auto-submitted: ${submitted}`;
  for (const name of ["x-autoreply", "x-autorespond", "x-auto-reply", "x-autoresponder"]) {
    const value = header(name)?.trim().toLowerCase();
    if (value !== undefined && value !== "no" && value !== "false") return name;
  }
  const precedence = header("precedence")?.trim().toLowerCase();
  if (precedence === "auto_reply" || precedence === "bulk" || precedence === "junk")
    return `precedence: ${precedence}`;
  if (subject !== undefined && AUTO_SUBJECT.test(subject)) return "subject";
  return undefined;
}
