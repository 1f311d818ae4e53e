/** Markup that is already safe to send: built by `html`, never from raw input. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

type Part = SafeHtml | string | number | undefined | null | false | Part[];

function render(part: Part): string {
  if (part === undefined || part === null || part === false) return "";
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/** A template tag that escapes every interpolated value unless it is already `SafeHtml`. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new SafeHtml(out);
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f5f6f8}
main{max-width:28rem;margin:0 auto;padding:2rem 1rem}
h1{font-size:1.5rem;margin:0 0 1rem}
.card{background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input,select{width:100%;font:inherit;padding:.75rem;border:1px solid #8a929c;border-radius:8px}
input:focus,select:focus,button:focus,a:focus{outline:3px solid #2563eb;outline-offset:2px}
button{margin-top:1.5rem;width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#e5e7eb;color:#1b1f24}
.error{background:#fdecec;color:#8a1c1c;border-radius:8px;padding:.75rem;margin:0 0 1rem}
.hint{color:#4b5563;font-size:.875rem;margin:.25rem 0 0}
dl{margin:0}dt{font-weight:600;margin-top:.75rem}dd{margin:0}
a{color:#1d4ed8}
`;

/** The one page shell: language, viewport for phones, title, inline styles. */
export function page(input: { title: string; body: SafeHtml; lang?: string }): string {
  return `<!doctype html>${
    html`<html lang="${input.lang ?? "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${input.title} · Rapport</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body><main>${input.body}</main></body>
</html>`.value
  }`;
}

/** A page that explains a failure and offers a way on. */
export function messagePage(input: {
  title: string;
  message: string;
  link?: { href: string; text: string };
}): string {
  return page({
    title: input.title,
    body: html`<div class="card"><h1>${input.title}</h1><p role="alert">${input.message}</p>${
      input.link ? html`<p><a href="${input.link.href}">${input.link.text}</a></p>` : ""
    }</div>`,
  });
}
