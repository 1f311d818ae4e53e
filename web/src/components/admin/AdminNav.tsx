import { followLink, pathFor } from "../../route.ts";
import { a } from "../../strings/admin.ts";
import { SECTIONS, type SectionId } from "./sections.ts";

/** The settings' side navigation (a row across the top on a phone). */
export function AdminNav({ current }: { current: SectionId | undefined }) {
  return (
    <nav aria-label={a.navLabel} className="admin-nav">
      <ul>
        {SECTIONS.map((s) => {
          const to = { page: "admin" as const, section: s };
          return (
            <li key={s}>
              <a
                href={pathFor(to)}
                aria-current={s === current ? "page" : undefined}
                onClick={(e) => followLink(e, to)}
              >
                {a.sections[s]}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
