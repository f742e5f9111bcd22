import type { FetchMessageObject } from "imapflow";
import { isWhole } from "./wholeRows";

const whole: FetchMessageObject = {
  seq: 1,
  uid: 7,
  size: 70,
  internalDate: new Date("2026-12-02T00:08:04Z"),
  envelope: { subject: "m2" },
  source: Buffer.from("Subject: m2\r\n\r\nbody\r\n"),
};
const all = { envelope: true, internalDate: true, size: true, source: true };

describe("isWhole", () => {
  test("a row with every item asked for is whole", () => {
    expect(isWhole(whole, all)).toBe(true);
  });

  test("Dovecot's placeholder for a message expunged meanwhile (size 0, 1970) is not a message", () => {
    const placeholder = { seq: 2, uid: 8, size: 0, internalDate: new Date(0), envelope: {} };
    expect(isWhole(placeholder, { envelope: true, internalDate: true, size: true })).toBe(false);
  });

  test.each([
    ["envelope", { ...whole, envelope: undefined }],
    ["internalDate", { ...whole, internalDate: undefined }],
    ["an unreadable internalDate", { ...whole, internalDate: "not a date" }],
    ["size", { ...whole, size: undefined }],
    ["source", { ...whole, source: undefined }],
    ["an empty source", { ...whole, source: Buffer.alloc(0) }],
  ])("a row without %s is not whole", (_what, row) => {
    expect(isWhole(row, all)).toBe(false);
  });

  test("only the items asked for count", () => {
    expect(isWhole({ seq: 1, uid: 7 }, {})).toBe(true);
    expect(isWhole({ ...whole, source: undefined }, { envelope: true, size: true })).toBe(true);
  });
});
