import { Button } from "@mantine/core";
import { cs } from "../../strings/customer.ts";

/** The "load more" button under a paginated list. */
export function LoadMore(props: { hasMore: boolean; loading: boolean; onMore: () => void }) {
  if (!props.hasMore) return null;
  return (
    <Button variant="subtle" size="compact-sm" loading={props.loading} onClick={props.onMore}>
      {cs.loadMore}
    </Button>
  );
}
