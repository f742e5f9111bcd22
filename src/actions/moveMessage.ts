import { transferAction } from "./builders";

export const moveMessage = transferAction("move", {
  label: "Move Messages",
  description:
    "Move messages by UID to another mailbox and return their new UIDs (uidMap). Uses MOVE where the server has it; otherwise copies, checks that every copy arrived and only then removes exactly those messages from the source. Moves messages; not safe to retry blindly: once moved, the UIDs no longer exist in the source and a second run fails.",
});
