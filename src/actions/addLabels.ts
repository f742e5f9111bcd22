import { labelAction } from "./builders";

export const addLabels = labelAction("add", {
  label: "Add Labels (Gmail)",
  description:
    "Gmail only: add labels to messages by UID and return the labels each message has afterwards, read back from Gmail. Changes labels only (the message stays where it is and appears under each label); safe to retry. Other servers: fails before changing anything.",
});
