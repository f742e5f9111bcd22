import { parseUidSet } from "./inputs";
import { messageIdOf, requestedIntervals, uidSetOf } from "./messages";

describe("requestedIntervals", () => {
  test("merges singles and ranges; n:* means n and above; a lone * is the highest UID", () => {
    expect(requestedIntervals(parseUidSet("5,1,10:*,3:2"), 40)).toEqual([
      { lo: 1, hi: 3 },
      { lo: 5, hi: 5 },
      { lo: 10, hi: Infinity },
    ]);
    expect(requestedIntervals(parseUidSet("*"), 40)).toEqual([{ lo: 40, hi: 40 }]);
    expect(requestedIntervals(parseUidSet("*:7"), 40)).toEqual([{ lo: 7, hi: Infinity }]);
  });
});

describe("uidSetOf", () => {
  test("joins consecutive UIDs", () => {
    expect(uidSetOf([1, 2, 3, 5, 7, 8])).toBe("1:3,5,7:8");
    expect(uidSetOf([4])).toBe("4");
    expect(uidSetOf([])).toBe("");
  });

  test("joins across gaps only inside one requested interval, where the missing UIDs can never exist", () => {
    const within = requestedIntervals(parseUidSet("1,3,10:*"), 0);
    // 2 was not asked for (it may exist and must not be named); 11..19 were asked for and do not exist.
    expect(uidSetOf([1, 3, 10, 12, 20], within)).toBe("1,3,10:20");
  });
});

describe("messageIdOf", () => {
  test("reads the Message-ID from the header section only, unfolded", () => {
    const raw = Buffer.from("Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <body@b>\r\n");
    expect(messageIdOf(raw)).toBe("<a@b>");
    expect(messageIdOf(Buffer.from("message-id: <lf@b>\n\nbody"))).toBe("<lf@b>");
  });

  test("is empty without one", () => {
    expect(messageIdOf(Buffer.from("Subject: x\r\n\r\nMessage-ID: <body@b>\r\n"))).toBe("");
    expect(messageIdOf(undefined)).toBe("");
  });
});
