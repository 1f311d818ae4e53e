import { Text } from "@mantine/core";
import { cs } from "../../strings/customer.ts";
import type { SectionProps } from "./sections.ts";
import { TraitValue } from "./TraitValue.tsx";

/** Every trait, by name; values as text, long ones folded. */
export function TraitsSection({ customer }: SectionProps) {
  const traits = Object.entries(customer.traits).sort(([a], [b]) => a.localeCompare(b));
  if (traits.length === 0) {
    return (
      <Text size="sm" c="gray.7">
        {cs.noTraits}
      </Text>
    );
  }
  return (
    <dl className="c360-pairs" data-section="traits">
      {traits.map(([key, value]) => (
        <div key={key} className="c360-pair" data-trait={key}>
          <dt>{key}</dt>
          <dd>
            <TraitValue value={value} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
