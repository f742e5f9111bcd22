import {
  decodeHeaderText,
  escapeRawBytesInMessage,
  isUtf7,
  nameSkeleton,
  parseMailDate,
  partFileName,
  rawHeaderText,
} from "./mimeText";

const binary = (text: string) => Buffer.from(text, "utf8").toString("latin1");

describe("decodeHeaderText", () => {
  test.each([
    ["raw 8-bit inside a Q word, in its charset", "=?iso-8859-1?Q?Fr\xf6sche?=", "Frösche"],
    ["raw UTF-8 (RFC 6532)", binary("Счёт за ноябрь"), "Счёт за ноябрь"],
    ["raw bytes that are not UTF-8: Windows-1252", "Caf\xe9 \x80", "Café €"],
    ["UTF-7 in a B word (RFC 2152)", "=?utf-7?B?R3IrQVB3QTN3LWU=?=", "Grüße"],
    ["UTF-7 in a Q word", "=?UTF-7?Q?J+APw-rgen?=", "Jürgen"],
    [
      "adjacent words joined without the space between (RFC 2047 6.2)",
      "=?utf-8?Q?a?= =?utf-8?Q?b?=",
      "ab",
    ],
    ["an unknown charset stays as written", "=?x-unknown?Q?abc?=", "abc"],
  ])("%s", (_what, input, expected) => {
    expect(decodeHeaderText(input)).toBe(expected);
  });
});

describe("rawHeaderText and charsets", () => {
  test("invalid UTF-8 falls back to Windows-1252 as a whole", () => {
    expect(rawHeaderText(Buffer.from([0x4b, 0xf6, 0x6c, 0x6e]))).toBe("Köln");
  });
  test("UTF-7 names", () => {
    expect(["utf-7", "UTF7", "unicode-1-1-utf-7", "utf-8", undefined].map(isUtf7)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});

describe("escapeRawBytesInMessage", () => {
  test("only the bytes inside Q words change; a message without them is the same buffer", () => {
    const source = Buffer.from("Subject: =?iso-8859-1?Q?K\xf6ln?=\r\n\r\nK\xf6ln\r\n", "latin1");
    expect(escapeRawBytesInMessage(source).toString("latin1")).toBe(
      "Subject: =?iso-8859-1?Q?K=F6ln?=\r\n\r\nK\xf6ln\r\n",
    );
    const plain = Buffer.from("Subject: plain\r\n\r\nbody\r\n");
    expect(escapeRawBytesInMessage(plain)).toBe(plain);
  });
});

describe("parseMailDate (RFC 5322 3.3 and 4.3)", () => {
  test.each([
    ["Thu, 13 Feb 1969 23:32:54 -0330", "1969-02-14T03:02:54.000Z"],
    ["Thu, 13 Feb 1969 23:32:54 JST", "1969-02-13T23:32:54.000Z"],
    ["13 Feb 1969 23:32 EST", "1969-02-14T04:32:00.000Z"],
    ["Fri, 21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06.000Z"],
    ["Fri, 21 Nov 03 09:55:06 PDT", "2003-11-21T16:55:06.000Z"],
    ["21 Nov 1997 09:55:06", "1997-11-21T09:55:06.000Z"],
    ["Mon, 2 Nov 2026 09:30:00 +0100 (CET)", "2026-11-02T08:30:00.000Z"],
    ["Tue,  1 Jul 2003 10:52:37 +0200", "2003-07-01T08:52:37.000Z"],
  ])("%s", (input, expected) => {
    expect(parseMailDate(input)?.toISOString()).toBe(expected);
  });
  test.each(["not a date", "31 Feb 2026 10:00:00 +0000", "1 Foo 2026 10:00:00 +0000", ""])(
    "%j is no date",
    (input) => {
      expect(parseMailDate(input)).toBeNull();
    },
  );
});

describe("partFileName", () => {
  test("from Content-Disposition, else Content-Type; RFC 2231, encoded words with raw 8-bit, raw UTF-8", () => {
    const header = (text: string) => Buffer.from(text, "latin1");
    expect(
      partFileName(
        header('Content-Type: image/gif; name="=?iso-8859-1?Q?Fr\xf6sche.gif?="\r\n\r\n'),
      ),
    ).toBe("Frösche.gif");
    expect(
      partFileName(
        header(
          "Content-Type: application/pdf; name=x.pdf\r\nContent-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht.pdf\r\n\r\n",
        ),
      ),
    ).toBe("Übersicht.pdf");
    expect(
      partFileName(header(`Content-Type: application/pdf; name="${binary("Счёт.pdf")}"\r\n`)),
    ).toBe("Счёт.pdf");
    expect(partFileName(header("Content-Type: text/plain\r\n"))).toBeNull();
  });
  test("nameSkeleton: the same for a name decoded well and badly, different for other ASCII", () => {
    expect(nameSkeleton("Frösche.gif")).toBe(nameSkeleton("Frï¿½sche.gif"));
    expect(nameSkeleton("Frösche.gif")).not.toBe(nameSkeleton("Frösche.png"));
  });
});
