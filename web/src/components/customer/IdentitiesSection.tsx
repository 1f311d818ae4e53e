import { Text, Title } from "@mantine/core";
import { formatDateTime } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import { useMerges } from "./customer-api.ts";
import { SectionState } from "./SectionState.tsx";
import type { SectionProps } from "./sections.ts";

/** Every identifier the customer is known by, on every channel, and the profiles merged in. */
export function IdentitiesSection({ customer, level }: SectionProps) {
  const merges = useMerges(customer.id);
  return (
    <div className="c360-section">
      {customer.identities.length === 0 ? (
        <Text size="sm" c="gray.7">
          {cs.noIdentities}
        </Text>
      ) : (
        <dl className="c360-pairs" data-section="identities">
          {customer.identities.map((i) => (
            <div key={`${i.kind}:${i.value}`} className="c360-pair" data-identity-kind={i.kind}>
              <dt>{cs.identityKind(i.kind)}</dt>
              <dd className="c360-value">{i.kind === "x_handle" ? `@${i.value}` : i.value}</dd>
            </div>
          ))}
        </dl>
      )}
      <Title order={level} size="h6" className="c360-subheading">
        {cs.merges}
      </Title>
      <SectionState
        pending={merges.isPending}
        error={merges.error}
        empty={(merges.data ?? []).length === 0}
        emptyText={cs.noMerges}
      >
        <ul className="c360-list" data-section="merges">
          {(merges.data ?? []).map((m) => (
            <li key={m.id}>
              <Text size="sm">{cs.merged(m.mergedId.slice(-8))}</Text>
              <Text size="xs" c="gray.7">
                {cs.mergeBy(m.reason, m.actor)} ·{" "}
                <time dateTime={m.createdAt}>{formatDateTime(m.createdAt)}</time>
              </Text>
            </li>
          ))}
        </ul>
      </SectionState>
    </div>
  );
}
