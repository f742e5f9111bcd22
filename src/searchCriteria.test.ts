import { ImapError, InputError } from "./errors";
import type { SearchKey } from "./searchCriteria";
import { parseCriteria, parseObjectId, renderKeys } from "./searchCriteria";

const server = (...capabilities: string[]) => ({
  has: (capability: string) => capabilities.includes(capability),
  host: "imap.example.com",
  mailbox: "INBOX",
});

function thrown(work: () => unknown): Error {
  try {
    work();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error("expected an error, but it succeeded");
}

describe("thread and email ids", () => {
  const byThread: SearchKey[] = parseCriteria('{"threadId": "1266894439832287888"}');

  test("sent as RFC 8474's THREADID where the server has OBJECTID, else as Gmail's X-GM-THRID, always as an atom", () => {
    expect(renderKeys(byThread, server("OBJECTID", "X-GM-EXT-1"))).toEqual([
      { type: "ATOM", value: "THREADID" },
      { type: "ATOM", value: "1266894439832287888" },
    ]);
    expect(
      renderKeys(parseCriteria('{"emailId": "1278455344230334865"}'), server("X-GM-EXT-1")),
    ).toEqual([
      { type: "ATOM", value: "X-GM-MSGID" },
      { type: "ATOM", value: "1278455344230334865" },
    ]);
  });

  test("a server with neither: MISSING_EXTENSION naming the key", () => {
    const err = thrown(() => renderKeys(byThread, server()));
    expect(err).toBeInstanceOf(ImapError);
    expect((err as ImapError).code).toBe("MISSING_EXTENSION");
    expect(err.message).toContain(
      'The search key "threadId" needs the OBJECTID (or Gmail\'s X-GM-EXT-1) extension',
    );
  });

  test.each(["T64b478a75b7ea9", "1266894439832287888", "M_6-d"])("%j is an id", (id) => {
    expect(parseObjectId(id, "Thread ID")).toBe(id);
  });

  test.each(["", "a b", '"x"', "x".repeat(256), "é"])("%j is refused before connecting", (id) => {
    const err = thrown(() => parseObjectId(id, "Thread ID"));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(
      /^Thread ID .* is not a message or thread id: give the threadId or emailId/,
    );
  });
});

describe("Gmail's own search", () => {
  test("gmraw is X-GM-RAW on Gmail", () => {
    expect(
      renderKeys(parseCriteria('{"gmraw": "has:attachment in:unread"}'), server("X-GM-EXT-1")),
    ).toEqual([
      { type: "ATOM", value: "X-GM-RAW" },
      { type: "STRING", value: "has:attachment in:unread" },
    ]);
  });

  test("elsewhere NOT_GMAIL, naming the key and saying the server is not Gmail", () => {
    const err = thrown(() => renderKeys(parseCriteria('{"labels": {"has": ["Work"]}}'), server()));
    expect((err as ImapError).code).toBe("NOT_GMAIL");
    expect(err.message).toBe(
      'labels is Gmail\'s own search (X-GM-RAW), and the server at imap.example.com is not Gmail (it does not announce X-GM-EXT-1), so the mailbox "INBOX" was not searched. Remove it and search with the other criteria.',
    );
  });
});
