import { Avatar, Group, Title } from "@mantine/core";
import { formatDateTime } from "../../i18n.ts";
import { cs } from "../../strings/customer.ts";
import { type CustomerDetail, customerName, identityOf, initials } from "./customer-api.ts";
import { lifecycleOf } from "./lifecycle.ts";
import { TraitValue } from "./TraitValue.tsx";

/** Who the customer is at a glance: name, initials, and the few facts agents ask first. */
export function CustomerHeader({ customer, order }: { customer: CustomerDetail; order: 1 | 2 }) {
  const email = identityOf(customer, "email");
  const phone = identityOf(customer, "phone");
  const name = customerName(customer) ?? email ?? phone ?? cs.unnamed;
  const plan = customer.traits.plan;
  const life = lifecycleOf(customer);
  const relation = cs.relation[life.relation] ?? life.relation;
  const activity = cs.activity[life.activity] ?? life.activity;
  const facts: Array<[string, React.ReactNode]> = [
    [cs.email, email ?? cs.none],
    [cs.phone, phone ?? cs.none],
    [
      cs.lifecycle,
      <span key="lifecycle" data-lifecycle={`${life.relation} ${life.activity}`}>
        {life.stage ? `${life.stage} · ` : ""}
        {relation} · {activity}
      </span>,
    ],
    [cs.plan, plan === undefined || plan === null ? cs.none : <TraitValue key="plan" value={plan} />],
    [
      cs.created,
      <time key="created" dateTime={customer.createdAt}>
        {formatDateTime(customer.createdAt)}
      </time>,
    ],
    [
      cs.lastSeen,
      <time key="seen" dateTime={customer.lastSeenAt}>
        {formatDateTime(customer.lastSeenAt)}
      </time>,
    ],
  ];
  return (
    <div className="c360-header">
      <Group gap="sm" wrap="nowrap">
        <Avatar color="blue" radius="xl" aria-hidden="true">
          {initials(name)}
        </Avatar>
        <Title order={order} size={order === 1 ? "h2" : "h4"} className="c360-name">
          {name}
        </Title>
      </Group>
      <dl className="c360-pairs c360-summary" data-section="summary">
        {facts.map(([label, value]) => (
          <div key={label} className="c360-pair">
            <dt>{label}</dt>
            <dd className="c360-value">{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
