import { ImapFlow } from "imapflow";
import { ImapError } from "./errors";
import { uidSearchCommand } from "./search";

/** A client that is never connected: only its exec() matters here. */
function offlineClient(exec: unknown): ImapFlow {
  const client = new ImapFlow({ host: "127.0.0.1", port: 1, logger: false });
  Reflect.set(client, "exec", exec);
  return client;
}

describe("uidSearchCommand (the one use of imapflow's internal exec)", () => {
  test("sends UID SEARCH through exec() with the handlers, then releases the response", async () => {
    const calls: unknown[][] = [];
    let released = 0;
    const client = offlineClient(async (...args: unknown[]) => {
      calls.push(args);
      return { next: () => (released += 1) };
    });
    const handlers = { SEARCH: async () => undefined };
    await uidSearchCommand(client, "INBOX")([{ type: "ATOM", value: "ALL" }], handlers);
    expect(calls).toEqual([
      ["UID SEARCH", [{ type: "ATOM", value: "ALL" }], { untagged: handlers }],
    ]);
    expect(released).toBe(1);
  });

  test("an imapflow without exec() is a clear error naming the mailbox, before anything is sent", () => {
    let err: unknown;
    try {
      uidSearchCommand(offlineClient(undefined), "Archive");
    } catch (caught) {
      err = caught;
    }
    expect(err).toBeInstanceOf(ImapError);
    expect(err).toMatchObject({ code: "CLIENT_INCOMPATIBLE", mailbox: "Archive" });
    expect((err as Error).message).toBe(
      'Could not search the mailbox "Archive": the imapflow library in this build has no exec() command channel, which Search / List Mailbox Messages uses for exact date criteria. The component was built with another imapflow version than the pinned one: rebuild it with the version in package-lock.json.',
    );
  });

  test("the pinned imapflow has exec()", () => {
    const client = new ImapFlow({ host: "127.0.0.1", port: 1, logger: false });
    expect(typeof Reflect.get(client, "exec")).toBe("function");
  });
});
