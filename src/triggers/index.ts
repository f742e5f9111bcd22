import { newEmails } from "./newEmails";
import { newEmailsBatched } from "./newEmailsBatched";

/** Trigger keys are public API: never rename one. */
export const triggers = { newEmails, newEmailsBatched };
