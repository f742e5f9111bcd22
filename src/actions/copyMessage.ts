import { transferAction } from "./builders";

export const copyMessage = transferAction("copy", {
  label: "Copy Messages",
  description:
    "Copy messages by UID to another mailbox and return where each copy went (uidMap). Adds messages to the destination; the source is not changed. Not safe to retry blindly: a second run makes second copies.",
});
