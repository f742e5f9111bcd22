import { flagAction } from "./builders";

export const setFlags = flagAction("set", {
  label: "Set Flags",
  description:
    "Replace the flags of messages by UID with exactly the given ones (\\Seen, \\Flagged, keywords such as $Label1); flags not given are removed. Returns the flags each message has afterwards. Changes flags only; safe to retry.",
});
