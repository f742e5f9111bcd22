import { getStatus } from "./getStatus";
import { listMailboxes } from "./listMailboxes";

/** Action keys are public API: never rename one. */
export const actions = {
  getStatus,
  listMailboxes,
};
