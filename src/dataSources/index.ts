import { listMailboxes } from "./listMailboxes";

/** Data source keys are public API: never rename one. */
export const dataSources = { listMailboxes };
