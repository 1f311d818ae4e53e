import { Kbd, Modal, Table, Title } from "@mantine/core";
import { Fragment } from "react";
import { keyLabels, SHORTCUTS, type Shortcut } from "../shortcuts.ts";
import { tc } from "../strings/conversation.ts";

const SCOPES: Array<Shortcut["scope"]> = ["conversation", "composer", "list"];

/** The keyboard shortcuts, by where they work (opened with `?`). */
export function ShortcutsDialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const mac = typeof navigator !== "undefined" && /Mac|iP(hone|ad|od)/.test(navigator.platform);
  return (
    <Modal
      closeButtonProps={{ "aria-label": tc.close }}
      opened={opened}
      onClose={onClose}
      title={tc.shortcutsTitle}
      size="lg"
    >
      {SCOPES.map((scope) => (
        <section key={scope} className="shortcut-group">
          <Title order={3} size="h5" mt="sm" mb={4}>
            {tc.shortcutScopes[scope]}
          </Title>
          <Table striped withRowBorders={false} className="shortcut-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">{tc.shortcutKeys}</Table.Th>
                <Table.Th scope="col">{tc.shortcutAction}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {SHORTCUTS.filter((s) => s.scope === scope).map((s) => (
                <Table.Tr key={s.id} data-shortcut={s.id}>
                  <Table.Td>
                    {keyLabels(s.keys, mac).map((k, i) => (
                      <Fragment key={k}>
                        {i > 0 ? " + " : null}
                        <Kbd>{k}</Kbd>
                      </Fragment>
                    ))}
                  </Table.Td>
                  <Table.Td>{tc.shortcutNames[s.id]}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </section>
      ))}
    </Modal>
  );
}
