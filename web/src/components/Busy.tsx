import { Loader, type LoaderProps } from "@mantine/core";

/**
 * A spinner that says what is going on: a status, so assistive technology may name it (a
 * label on a bare span is not allowed). A spinner beside words that already say it is
 * `<Loader aria-hidden />` instead.
 */
export function Busy({ label, size = "sm" }: { label: string; size?: LoaderProps["size"] }) {
  return <Loader size={size} role="status" aria-label={label} />;
}
