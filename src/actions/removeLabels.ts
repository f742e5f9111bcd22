import { labelAction } from "./builders";

export const removeLabels = labelAction("remove", {
  label: "Remove Labels (Gmail)",
  description:
    "Gmail only: remove labels from messages by UID and return the labels each message has afterwards, read back from Gmail. Removing \\Inbox archives the message; the message itself is never deleted. Safe to retry. Other servers: fails before changing anything.",
});
