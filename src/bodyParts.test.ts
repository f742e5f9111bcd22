import { randomBytes } from "node:crypto";
import type { MessageStructureObject } from "imapflow";
import { decodeTransferEncoding, listParts, parsePartId } from "./bodyParts";

const qp = (text: string) =>
  decodeTransferEncoding(Buffer.from(text, "latin1"), "quoted-printable").toString("latin1");

describe("quoted-printable decoding (libqp)", () => {
  test.each([
    ["plain text", "plain text"],
    ["a=3Db=3db", "a=b=b"],
    ["soft =\r\nbreak", "soft break"],
    ["soft =  \r\nbreak, blanks after the equals sign", "soft break, blanks after the equals sign"],
    ["soft =\nbreak on LF", "soft break on LF"],
    ["trailing blanks  \r\nare dropped\t\r\n", "trailing blanks\r\nare dropped\r\n"],
    ["encoded blanks=20\r\nstay=09\r\n", "encoded blanks \r\nstay\t\r\n"],
    ["ends with a soft break=", "ends with a soft break"],
    ["bad escapes =ZZ and =4", "bad escapes =ZZ and =4"],
    ["=C3=BC", "\u00c3\u00bc"],
  ])("%j", (input, expected) => {
    expect(qp(input)).toBe(expected);
  });
});

describe("decodeTransferEncoding", () => {
  test("base64 with line breaks; 7bit, 8bit and unknown encodings as they are", () => {
    expect(decodeTransferEncoding(Buffer.from("SGVs\r\nbG8=\r\n"), "base64").toString()).toBe(
      "Hello",
    );
    expect(decodeTransferEncoding(Buffer.from("as is"), "8bit").toString()).toBe("as is");
    expect(decodeTransferEncoding(Buffer.from("begin 644 x"), "x-uuencode").toString()).toBe(
      "begin 644 x",
    );
  });
});

describe("base64 decoding", () => {
  /** What the decoding is held to: Node's decoder on the part without the bytes outside the alphabet. */
  const asOneString = (raw: Buffer) =>
    Buffer.from(raw.toString("latin1").replace(/[^A-Za-z0-9+/=]/g, ""), "base64");
  const junk = ["\r\n", " ", "-", "_", "*", "\u00e9", "\t"];

  test("decodes like one string without the characters outside the alphabet", () => {
    for (let round = 0; round < 40; round += 1) {
      const data = randomBytes(round * 4001 + (round % 3));
      let text = data.toString("base64");
      if (round % 4 === 1) text = text.replace(/=+$/, "");
      if (round % 5 === 2) text = `${text.slice(0, 100)}=${text.slice(100)}`;
      const lines = text.match(/.{1,76}/g) ?? [];
      const raw = Buffer.from(
        lines.map((line, i) => `${line}${junk[(i + round) % junk.length]}`).join(""),
        "latin1",
      );
      const decoded = decodeTransferEncoding(raw, "base64");
      expect(decoded.equals(asOneString(raw))).toBe(true);
      if (round % 4 !== 1 && round % 5 !== 2) expect(decoded.equals(data)).toBe(true);
    }
  });

  test("a part of several pieces: whole, in one buffer sized from its encoded length", () => {
    const data = randomBytes(1_000_000);
    const raw = Buffer.from(
      `${(data.toString("base64").match(/.{1,76}/g) ?? []).join("\r\n")}\r\n`,
    );
    const decoded = decodeTransferEncoding(raw, "base64");
    expect(decoded.equals(data)).toBe(true);
    expect(decoded.buffer.byteLength).toBe(Math.ceil((raw.length * 3) / 4));
  });

  test("nothing but line breaks decodes to nothing", () => {
    expect(decodeTransferEncoding(Buffer.from("\r\n\r\n"), "base64").length).toBe(0);
    expect(decodeTransferEncoding(Buffer.alloc(0), "base64").length).toBe(0);
  });
});

describe("listParts", () => {
  const structure: MessageStructureObject = {
    type: "multipart/mixed",
    childNodes: [
      { part: "1", type: "text/plain" },
      {
        part: "2",
        type: "message/rfc822",
        childNodes: [
          {
            part: "2",
            type: "multipart/alternative",
            childNodes: [
              { part: "2.1", type: "text/plain" },
              { part: "2.2", type: "text/html" },
            ],
          },
        ],
      },
      { part: "3", type: "message/rfc822", childNodes: [{ part: "3", type: "text/plain" }] },
      {
        part: "4",
        type: "application/octet-stream",
        encoding: "BASE64",
        dispositionParameters: { filename: "a.pdf" },
      },
    ],
  };

  test("numbers parts as IMAP does: a single-part body of attached message N is N.1", () => {
    expect(
      listParts(structure, { intoMessages: true }).map((part) => [part.partId, part.contentType]),
    ).toEqual([
      ["1", "text/plain"],
      ["2", "message/rfc822"],
      ["2.1", "text/plain"],
      ["2.2", "text/html"],
      ["3", "message/rfc822"],
      ["3.1", "text/plain"],
      ["4", "application/pdf"],
    ]);
    expect(listParts(structure, { intoMessages: false }).map((part) => part.partId)).toEqual([
      "1",
      "2",
      "3",
      "4",
    ]);
    expect(listParts(structure, { intoMessages: false })[3]).toMatchObject({
      filename: "a.pdf",
      encoding: "base64",
    });
  });

  test("the body of a single-part message is part 1", () => {
    expect(
      listParts({ type: "application/pdf" }, { intoMessages: true }).map((part) => part.partId),
    ).toEqual(["1"]);
  });
});

describe("parsePartId", () => {
  test("takes part numbers, refuses anything else", () => {
    expect(parsePartId("1.2.10")).toBe("1.2.10");
    expect(parsePartId(undefined)).toBeUndefined();
    for (const bad of ["", "0", "1.0", "01", "1.", "TEXT", "1.MIME", "-1"])
      expect(() => parsePartId(bad)).toThrow("is not a body part number");
  });
});
