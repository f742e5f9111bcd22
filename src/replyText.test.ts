import { MAX_REPLY_PARSE_LENGTH, replyTextOf } from "./replyText";

describe("replyTextOf", () => {
  test("null stays null; text without quotes or signature stays as it is (trimmed)", () => {
    expect(replyTextOf(null)).toBeNull();
    expect(replyTextOf("Just a note.\r\nSecond line.\r\n")).toBe("Just a note.\nSecond line.");
  });

  test("a German Gmail attribution and an Outlook rule are removed", () => {
    expect(
      replyTextOf(
        "Passt, danke.\n\nAm 24.11.2026 um 10:00 schrieb Jürgen Müller <juergen@example.com>:\n> Ist die Rechnung da?\n",
      ),
    ).toBe("Passt, danke.");
    expect(
      replyTextOf(
        "Approved.\n\n________________________________\nFrom: Alice <alice@example.com>\nSent: Tuesday, November 24, 2026 10:00 AM\nTo: Bob <bob@example.com>\nSubject: x\n\nOld text",
      ),
    ).toBe("Approved.");
  });

  test("very long text is read only up to its first 20,000 characters, where the reply is", () => {
    // A line the parser's "On ... wrote:" pattern backtracks on, twice as long as what is read.
    const long = `The reply.\n\nOn ${"a ".repeat(MAX_REPLY_PARSE_LENGTH)}`;
    const reply = replyTextOf(long);
    expect(reply?.startsWith("The reply.")).toBe(true);
    expect(reply?.length).toBeLessThanOrEqual(MAX_REPLY_PARSE_LENGTH);
  });
});
