import {
  envelopeJson,
  flagList,
  isoDate,
  messageIdentity,
  messageSummary,
  toJson,
} from "./serialize";

describe("toJson", () => {
  test("bigint becomes a decimal string, beyond the safe integer range too", () => {
    expect(toJson({ uidValidity: 1764115968n, modseq: 18446744073709551615n })).toEqual({
      uidValidity: "1764115968",
      modseq: "18446744073709551615",
    });
  });

  test("Set and Map become arrays, Date an ISO string, Buffer base64", () => {
    const out = toJson({
      flags: new Set(["\\Seen", "$Label1"]),
      uidMap: new Map([
        [1, 10],
        [2, 11],
      ]),
      at: new Date("2026-11-24T10:00:00Z"),
      raw: Buffer.from("hi"),
    });
    expect(out).toEqual({
      flags: ["\\Seen", "$Label1"],
      uidMap: [
        [1, 10],
        [2, 11],
      ],
      at: "2026-11-24T10:00:00.000Z",
      raw: "aGk=",
    });
  });

  test("undefined members are dropped, invalid numbers and dates become null", () => {
    expect(toJson({ a: undefined, b: NaN, c: new Date("nope"), d: null, e: [undefined] })).toEqual({
      b: null,
      c: null,
      d: null,
      e: [null],
    });
  });

  test("the result survives JSON.stringify unchanged", () => {
    const value = toJson({ n: 5n, s: new Set([1n]), nested: { m: new Map([["k", new Date(0)]]) } });
    expect(JSON.parse(JSON.stringify(value))).toEqual(value);
  });
});

describe("envelopes", () => {
  test("every key is present even when the message lacks the header", () => {
    expect(envelopeJson(undefined)).toEqual({
      date: null,
      subject: "",
      messageId: "",
      inReplyTo: "",
      from: [],
      to: [],
      cc: [],
      bcc: [],
      replyTo: [],
      sender: [],
    });
  });

  test("addresses are { name, address } with empty strings for missing parts", () => {
    const e = envelopeJson({
      from: [{ address: "a@example.com" }],
      to: [{ name: "Bob", address: "b@example.com" }],
      date: new Date("2026-01-02T03:04:05Z"),
    });
    expect(e.from).toEqual([{ name: "", address: "a@example.com" }]);
    expect(e.to).toEqual([{ name: "Bob", address: "b@example.com" }]);
    expect(e.date).toBe("2026-01-02T03:04:05.000Z");
  });

  test("a date the library could not parse is kept as the server sent it", () => {
    expect(isoDate("not a date")).toBe("not a date");
    expect(isoDate("")).toBeNull();
  });

  test("message summaries carry uid, flags as a list, size and internal date", () => {
    expect(
      messageSummary({
        uid: 7,
        flags: new Set(["\\Seen"]),
        size: 120,
        internalDate: new Date("2026-11-24T10:00:00Z"),
      }),
    ).toEqual({
      uid: 7,
      flags: ["\\Seen"],
      size: 120,
      internalDate: "2026-11-24T10:00:00.000Z",
      envelope: {
        date: null,
        subject: "",
        messageId: "",
        inReplyTo: "",
        from: [],
        to: [],
        cc: [],
        bcc: [],
        replyTo: [],
        sender: [],
      },
    });
  });
});

describe("flagList", () => {
  test("leaves out \\Recent in any letter case and keeps everything else in order", () => {
    expect(
      flagList(new Set(["\\Seen", "\\Recent", "$Label1", "\\recent", "\\RECENT", "\\Flagged"])),
    ).toEqual(["\\Seen", "$Label1", "\\Flagged"]);
    expect(flagList(undefined)).toEqual([]);
  });

  test("messageSummary shows the flags the same way", () => {
    expect(messageSummary({ uid: 7, flags: new Set(["\\recent", "\\Answered"]) }).flags).toEqual([
      "\\Answered",
    ]);
  });
});

describe("messageIdentity", () => {
  test("labels, threadId and emailId as the server sent them", () => {
    expect(
      messageIdentity({
        labels: new Set(["\\Inbox", "Muy Importante"]),
        threadId: "1266894439832287888",
        emailId: "1278455344230334865",
      }),
    ).toEqual({
      labels: ["\\Inbox", "Muy Importante"],
      threadId: "1266894439832287888",
      emailId: "1278455344230334865",
    });
  });

  test("what the server did not send is left out, not null-filled", () => {
    expect(messageIdentity({})).toEqual({});
    expect(messageIdentity({ threadId: "", emailId: "M6d99ac3275bb4e" })).toEqual({
      emailId: "M6d99ac3275bb4e",
    });
    // An empty label list is what Gmail says about a message without labels: kept.
    expect(messageIdentity({ labels: new Set() })).toEqual({ labels: [] });
  });
});
