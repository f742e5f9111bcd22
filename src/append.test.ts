import { parseInternalDate, parseRawMessage } from "./append";
import { InputError } from "./errors";

describe("parseRawMessage", () => {
  test("text, a Buffer and file data give the same CRLF bytes", () => {
    const crlf = "From: a@example.com\r\nSubject: x\r\n\r\nline 1\r\nline 2\r\n";
    const lf = crlf.replace(/\r\n/g, "\n");
    for (const value of [
      crlf,
      lf,
      Buffer.from(lf),
      { data: Buffer.from(lf), contentType: "message/rfc822" },
      new Uint8Array(Buffer.from(crlf)),
    ]) {
      expect(parseRawMessage(value).toString()).toBe(crlf);
    }
  });

  test("keeps 8-bit bytes as they are", () => {
    const raw = Buffer.concat([
      Buffer.from("Subject: x\r\n\r\n"),
      Buffer.from([0xe4, 0xf6, 0x0d, 0x0a]),
    ]);
    expect(parseRawMessage(raw).equals(raw)).toBe(true);
  });

  test("something that is not a message is refused", () => {
    const refusal = (value: unknown) => {
      try {
        parseRawMessage(value);
      } catch (err) {
        return [err instanceof InputError, (err as Error).message];
      }
      return [false, "accepted"];
    };
    const notRaw =
      "Message must be the raw message (RFC 5322 text: headers, a blank line, the body) or file data from an earlier step, not an object or a number.";
    expect(refusal(Buffer.from("%PDF-1.4"))).toEqual([
      true,
      'Message does not start with a header field such as "From: ..." (it starts with "%PDF-1.4"). Give the raw RFC 5322 message: headers, a blank line, the body; remove an mbox "From " line.',
    ]);
    expect(refusal(42)).toEqual([true, notRaw]);
    expect(refusal(undefined)).toEqual([true, notRaw]);
    expect(refusal({ data: {} })).toEqual([true, notRaw]);
  });
});

describe("parseInternalDate", () => {
  test.each<[unknown, string | undefined]>([
    ["", undefined],
    [undefined, undefined],
    ["2024-05-17", "2024-05-17T00:00:00.000Z"],
    ["2024-05-17T09:30:00Z", "2024-05-17T09:30:00.000Z"],
    ["2024-05-17T09:30Z", "2024-05-17T09:30:00.000Z"],
    ["2024-05-17T09:30:00.250+02:00", "2024-05-17T07:30:00.250Z"],
    ["2024-05-17 09:30:00+0200", "2024-05-17T07:30:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["Fri, 17 May 2024 09:30:00 +0200", "2024-05-17T07:30:00.000Z"],
    ["17 May 2024 09:30 GMT", "2024-05-17T09:30:00.000Z"],
    [new Date("2024-05-17T09:30:00Z"), "2024-05-17T09:30:00.000Z"],
  ])("%j", (value, expected) => {
    expect(parseInternalDate(value)?.toISOString()).toBe(expected);
  });

  test.each<unknown>([
    "yesterday",
    "now",
    "2023-02-29",
    "2024-13-01",
    "2024-05-17T09:30:00",
    "31 Feb 2024 10:00 +0000",
    "17 Foo 2024 10:00 +0000",
    "1715938200",
    1715938200,
    new Date("x"),
  ])("%j is refused", (value) => {
    const message =
      value instanceof Date
        ? "Internal Date is not a valid date."
        : `Internal Date ${JSON.stringify(value)} is not a date: use ISO 8601 such as 2024-05-17 or 2024-05-17T09:30:00Z (a time needs a zone: Z or +02:00), or a mail date such as "Fri, 17 May 2024 09:30:00 +0200".`;
    expect(() => parseInternalDate(value)).toThrow(InputError);
    expect(() => parseInternalDate(value)).toThrow(message);
  });
});
