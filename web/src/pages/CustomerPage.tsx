import { t } from "../i18n.ts";

/** One customer in full: the 360 view on a page of its own. */
export function CustomerPage({ id }: { id: string }) {
  return (
    <main id="main" className="page" tabIndex={-1} data-customer-id={id}>
      <h1>{t.customer}</h1>
    </main>
  );
}
