import { newEmails } from "./newEmails";

/** Trigger keys are public API: never rename one. */
export const triggers = { newEmails };
