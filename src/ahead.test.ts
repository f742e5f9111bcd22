import { answers, hasLiteral, onlyAsked, refusal, type Sent, statusItems } from "./ahead";
import { rowUid } from "./messages";

const sent = (command: "SELECT" | "STATUS", path: string, detail: string[]): Sent => ({
  command,
  path,
  detail,
  outcome: Promise.resolve({ use: "resend" }),
  unparsedBefore: 0,
});

describe("matching a step's call to a command sent ahead", () => {
  test("HIGHESTMODSEQ counts only where CONDSTORE is known", () => {
    const query = { messages: true, uidNext: true, highestModseq: true, unseen: false };
    expect(statusItems(query, true)).toEqual(["messages", "uidNext", "highestModseq"]);
    expect(statusItems(query, false)).toEqual(["messages", "uidNext"]);
  });

  test("a SELECT answers the same mailbox opened the same way only", () => {
    const examine = sent("SELECT", "INBOX", ["true"]);
    expect(answers(examine, { command: "SELECT", path: "INBOX", detail: ["true"] })).toBe(true);
    expect(answers(examine, { command: "SELECT", path: "INBOX", detail: ["false"] })).toBe(false);
    expect(answers(examine, { command: "SELECT", path: "Archive", detail: ["true"] })).toBe(false);
    expect(answers(examine, { command: "STATUS", path: "INBOX", detail: [] })).toBe(false);
  });

  test("a STATUS answers a call asking the same items or fewer", () => {
    const status = sent("STATUS", "INBOX", ["messages", "uidNext", "highestModseq"]);
    const call = (detail: string[]) =>
      answers(status, { command: "STATUS", path: "INBOX", detail });
    expect(call(["messages", "uidNext"])).toBe(true);
    expect(call(["highestModseq", "messages", "uidNext"])).toBe(true);
    expect(call(["messages", "unseen"])).toBe(false);
  });

  test("the answer handed over holds only the items asked, as the call's own would", () => {
    const answer = { path: "INBOX", messages: 3, uidNext: 9, highestModseq: BigInt(12) };
    expect(onlyAsked(answer, ["messages", "uidNext"])).toEqual({
      path: "INBOX",
      messages: 3,
      uidNext: 9,
    });
  });

  test("only a NO (or imapflow's 'does not exist' after it) is the step's own refusal", () => {
    expect(refusal({ responseStatus: "NO" })).toBe(true);
    expect(refusal({ code: "NotFound" })).toBe(true);
    expect(refusal({ responseStatus: "BAD" })).toBe(false);
    expect(refusal(new Error("Connection closed"))).toBe(false);
    expect(refusal(undefined)).toBe(false);
  });

  test("a command with a literal anywhere in its attributes is never written ahead", () => {
    expect(
      hasLiteral([{ type: "ATOM", value: "INBOX" }, [{ type: "ATOM", value: "MESSAGES" }]]),
    ).toBe(false);
    expect(
      hasLiteral([{ type: "ATOM", value: "X" }, [{ type: "LITERAL", value: Buffer.from("a") }]]),
    ).toBe(true);
  });
});

describe("the UID of a FETCH row", () => {
  const row = (...items: string[]) => ({
    attributes: [{ value: "FETCH" }, items.map((value) => ({ value }))],
  });
  test("is read from its UID item, wherever it is", () => {
    expect(rowUid(row("UID", "42"))).toBe(42);
    expect(rowUid(row("FLAGS", "x", "UID", "7"))).toBe(7);
  });
  test("is none for a row without one or with a value that is not a UID", () => {
    expect(rowUid(row("FLAGS", "x"))).toBeUndefined();
    expect(rowUid(row("UID", "1x"))).toBeUndefined();
    expect(rowUid(row("UID", "0"))).toBeUndefined();
    expect(rowUid(undefined)).toBeUndefined();
  });
});
