import { Alert, Loader, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { cs } from "../../strings/customer.ts";

/** A section's loading, failure and empty states; the children once there is something to show. */
export function SectionState(props: {
  pending: boolean;
  error: Error | null;
  empty: boolean;
  emptyText: string;
  children: ReactNode;
}) {
  if (props.pending) {
    return (
      <div role="status" className="c360-loading">
        <Loader size="xs" aria-hidden />
        <Text size="sm">{cs.loading}</Text>
      </div>
    );
  }
  if (props.error) {
    return (
      <Alert color="red" role="alert" p="xs">
        {cs.loadFailed(props.error.message)}
      </Alert>
    );
  }
  if (props.empty) {
    return (
      <Text size="sm" c="gray.7" className="c360-empty">
        {props.emptyText}
      </Text>
    );
  }
  return <>{props.children}</>;
}
