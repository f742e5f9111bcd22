import { actions } from ".";

/**
 * Which actions the designer may run inline to fill reference data: exactly those that only
 * read. A new action must take a side here, or this test fails.
 */
const READ_ONLY = [
  "checkConnection",
  "downloadAttachment",
  "downloadMessage",
  "getMessage",
  "getQuota",
  "getStatus",
  "listMailboxes",
  "searchMailbox",
  "waitForEmail",
];

describe("performSafety", () => {
  test.each(Object.keys(actions))("%s declares whether it is safe to run inline", (key) => {
    const declared = (actions as Record<string, { performSafety?: string }>)[key]?.performSafety;
    expect(declared).toBe(READ_ONLY.includes(key) ? "safe" : "notAllowed");
  });

  test("the read-only list names only actions that exist", () => {
    expect(READ_ONLY.filter((key) => !(key in actions))).toEqual([]);
  });
});
