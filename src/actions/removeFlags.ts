import { flagAction } from "./builders";

export const removeFlags = flagAction("remove", {
  label: "Remove Flags",
  description:
    "Remove flags (\\Seen, \\Flagged, keywords such as $Label1) from messages by UID and return the flags each message has afterwards. Changes flags only; safe to retry (removing a missing flag changes nothing).",
});
