import type { App } from "../../src/http/app.ts";

export type ApiCall = {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  payload?: Record<string, unknown> | undefined;
  key?: string;
};

/** A REST caller for `app`, with a secret key by default (another key per call if given). */
export function apiCaller(app: () => App, defaultKey: () => string) {
  return ({ method, url, payload, key = defaultKey() }: ApiCall) =>
    app().inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload !== undefined ? { payload } : {}),
    });
}

let serial = 0;
/** A template key no other test of the run uses. */
export const uniqueKey = (prefix: string) => `${prefix}-${++serial}`;

/** An SMS template with English, French and Canadian French variants. */
export const welcomeSms = (key: string) => ({
  key,
  name: "Welcome",
  channel: "sms",
  defaultLanguage: "en",
  variants: {
    en: { text: "Hello {{ customer.traits.first_name }}" },
    fr: { text: "Bonjour {{ customer.traits.first_name }}" },
    "fr-CA": { text: "Allô {{ customer.traits.first_name }}" },
  },
});
