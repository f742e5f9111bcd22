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
