import { Alert, Loader, Text } from "@mantine/core";
import { ApiError } from "../api.ts";
import { Customer360 } from "../components/customer/Customer360.tsx";
import { useCustomer } from "../components/customer/customer-api.ts";
import { cs } from "../strings/customer.ts";

/** One customer in full: the 360 view on a page of its own, the main sections open. */
export function CustomerPage({ id }: { id: string }) {
  const customer = useCustomer(id);
  let body: React.ReactNode;
  if (customer.error && !customer.data) {
    const missing = customer.error instanceof ApiError && customer.error.status === 404;
    body = (
      <>
        <h1>{cs.heading}</h1>
        <Alert color="red" role="alert">
          {missing ? cs.notFound : cs.loadFailed(customer.error.message)}
        </Alert>
      </>
    );
  } else if (!customer.data) {
    body = (
      <div className="c360-loading" role="status">
        <Loader size="xs" aria-hidden />
        <Text size="sm">{cs.loading}</Text>
      </div>
    );
  } else {
    body = (
      <Customer360
        key={customer.data.id}
        customer={customer.data}
        full
        initiallyOpen={["identities", "traits", "consent", "conversations"]}
      />
    );
  }
  return (
    <main id="main" className="page" tabIndex={-1} data-customer-id={id}>
      {body}
    </main>
  );
}
