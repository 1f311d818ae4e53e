import { Text } from "@mantine/core";
import { t } from "../i18n.ts";

/** Search customers and conversations by text, email, phone or handle. */
export function SearchPage({ q }: { q: string }) {
  return (
    <main id="main" className="page" tabIndex={-1}>
      <h1>{t.search}</h1>
      <Text>{q}</Text>
    </main>
  );
}
