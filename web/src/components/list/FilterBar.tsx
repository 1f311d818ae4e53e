import { Button, Chip, Group, NativeSelect } from "@mantine/core";
import { useId, useState } from "react";
import { t } from "../../i18n.ts";
import {
  activeFilters,
  DEFAULT_FILTERS,
  type ListFilters,
  PRIORITIES,
  SORTS,
  STATUSES,
  useListOptions,
} from "../../list-queries.ts";
import { s } from "../../strings/list.ts";

type Props = { filters: ListFilters; onFilters: (filters: ListFilters) => void };

type Choice = { value: string; label: string };

/** A select whose first choice is "any"; a stored value no longer offered still shows. */
function FilterSelect(props: {
  label: string;
  any: string;
  value: string | undefined;
  choices: Choice[];
  onChange: (value: string | undefined) => void;
}) {
  const { value, choices } = props;
  const known = value === undefined || choices.some((c) => c.value === value);
  const data = [{ value: "", label: props.any }, ...choices, ...(known ? [] : [{ value, label: value }])];
  return (
    <NativeSelect
      size="xs"
      label={props.label}
      value={value ?? ""}
      data={data}
      onChange={(e) => props.onChange(e.currentTarget.value || undefined)}
    />
  );
}

/**
 * The list's sort, and its filters folded behind one button (status, inbox, channel, team,
 * label, priority): a narrow bar on a phone, the choices a tap away.
 */
export function FilterBar({ filters, onFilters }: Props) {
  const [open, setOpen] = useState(false);
  const panel = useId();
  // the choices are read when first wanted, so the first screen asks only for its rows
  const [wanted, setWanted] = useState(false);
  const options = useListOptions(wanted || open);
  const n = activeFilters(filters);
  const set = (patch: Partial<ListFilters>) => onFilters({ ...filters, ...patch });
  const channels = [...new Set(options.inboxes.flatMap((i) => (i.channel ? [i.channel] : [])))].sort();
  return (
    <div className="lfilters">
      <Group gap="xs" wrap="nowrap" className="lfilter-bar">
        <Button
          size="xs"
          variant={n > 0 ? "light" : "default"}
          aria-expanded={open}
          aria-controls={panel}
          onClick={() => setOpen((o) => !o)}
          onPointerEnter={() => setWanted(true)}
          onFocus={() => setWanted(true)}
        >
          {s.filters}
          {n > 0 ? <span className="lfilter-count">{n}</span> : null}
          {n > 0 ? <span className="visually-hidden"> ({s.filtersActive(n)})</span> : null}
        </Button>
        {n > 0 ? (
          <Button
            size="xs"
            variant="subtle"
            onClick={() => onFilters({ ...DEFAULT_FILTERS, sort: filters.sort })}
          >
            {s.clearFilters}
          </Button>
        ) : null}
        <NativeSelect
          size="xs"
          className="lsort"
          aria-label={s.sortLabel}
          value={filters.sort}
          data={SORTS.map((v) => ({ value: v, label: s.sorts[v] }))}
          onChange={(e) => {
            const sort = SORTS.find((v) => v === e.currentTarget.value);
            if (sort) set({ sort });
          }}
        />
      </Group>
      <div id={panel} className="lfilter-panel" hidden={!open}>
        <fieldset className="lstatus">
          <legend>{s.statusLabel}</legend>
          <Chip.Group multiple value={filters.status} onChange={(status) => set({ status })}>
            <Group gap={6}>
              {STATUSES.map((v) => (
                <Chip key={v} value={v} size="xs">
                  {t.status(v)}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </fieldset>
        <div className="lfilter-grid">
          <FilterSelect
            label={s.inboxLabel}
            any={s.anyInbox}
            value={filters.inboxId}
            choices={options.inboxes.map((i) => ({ value: i.id, label: i.name }))}
            onChange={(inboxId) => set({ inboxId })}
          />
          <FilterSelect
            label={s.channelLabel}
            any={s.anyChannel}
            value={filters.channel}
            choices={channels.map((c) => ({ value: c, label: t.conversationChannel(c) }))}
            onChange={(channel) => set({ channel })}
          />
          <FilterSelect
            label={s.teamLabel}
            any={s.anyTeam}
            value={filters.teamId}
            choices={options.teams.map((x) => ({ value: x.id, label: x.name }))}
            onChange={(teamId) => set({ teamId })}
          />
          <FilterSelect
            label={s.labelLabel}
            any={s.anyLabel}
            value={filters.label}
            choices={options.labels.map((l) => ({ value: l, label: l }))}
            onChange={(label) => set({ label })}
          />
          <FilterSelect
            label={s.priorityLabel}
            any={s.anyPriority}
            value={filters.priority}
            choices={PRIORITIES.map((p) => ({ value: p, label: t.priority(p) }))}
            onChange={(priority) => set({ priority })}
          />
        </div>
      </div>
    </div>
  );
}
