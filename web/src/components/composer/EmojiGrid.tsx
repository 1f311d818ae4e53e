import { UnstyledButton } from "@mantine/core";

// A small set of the emoji agents use most: no catalogue to download.
const EMOJI: Array<[string, string]> = [
  ["😀", "grinning face"],
  ["😊", "smiling face"],
  ["🙂", "slightly smiling face"],
  ["😉", "winking face"],
  ["😍", "heart eyes"],
  ["🤔", "thinking face"],
  ["😅", "relieved laugh"],
  ["😂", "tears of joy"],
  ["😢", "crying face"],
  ["😮", "surprised face"],
  ["🙏", "thank you"],
  ["👍", "thumbs up"],
  ["👎", "thumbs down"],
  ["👋", "waving hand"],
  ["👏", "clapping hands"],
  ["🙌", "raised hands"],
  ["💪", "flexed arm"],
  ["❤️", "red heart"],
  ["🎉", "party popper"],
  ["✅", "check mark"],
  ["❌", "cross mark"],
  ["⚠️", "warning"],
  ["⏳", "hourglass"],
  ["📦", "package"],
  ["🚚", "delivery truck"],
  ["📧", "email"],
  ["📞", "telephone"],
  ["💳", "credit card"],
  ["🔒", "lock"],
  ["⭐", "star"],
  ["🔥", "fire"],
  ["💡", "light bulb"],
];

/** The emoji grid; each button inserts its emoji where the caret is. */
export function EmojiGrid({ onPick, label }: { onPick: (emoji: string) => void; label: string }) {
  return (
    <div className="emoji-grid" title={label}>
      {EMOJI.map(([e, name]) => (
        <UnstyledButton key={e} className="emoji" aria-label={name} title={name} onClick={() => onPick(e)}>
          {e}
        </UnstyledButton>
      ))}
    </div>
  );
}
