import { flagAction } from "./builders";

export const addFlags = flagAction("add", {
  label: "Add Flags",
  description:
    "Add flags (\\Seen, \\Flagged, keywords such as $Label1) to messages by UID and return the flags each message has afterwards. Changes flags only; safe to retry (adding a flag twice changes nothing).",
});
