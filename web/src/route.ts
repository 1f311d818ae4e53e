import { useCallback, useEffect, useState } from "react";

// The inbox's two places: the list, and one conversation at /inbox/c/<id>. Real paths, so the
// browser's Back button leaves a conversation on a phone and a link opens one directly.

const PREFIX = "/inbox/c/";

function fromPath(path: string): string | undefined {
  if (!path.startsWith(PREFIX)) return undefined;
  const id = decodeURIComponent(path.slice(PREFIX.length)).replace(/\/$/, "");
  return id === "" ? undefined : id;
}

/** The open conversation's id from the URL, and a way to open another (or none). */
export function useOpenConversation(): [string | undefined, (id: string | undefined) => void] {
  const [open, setOpen] = useState(() => fromPath(location.pathname));
  useEffect(() => {
    const onPop = () => setOpen(fromPath(location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const go = useCallback((id: string | undefined) => {
    const path = id ? `${PREFIX}${encodeURIComponent(id)}` : "/inbox/";
    if (path !== location.pathname) history.pushState(null, "", path);
    setOpen(id);
  }, []);
  return [open, go];
}
