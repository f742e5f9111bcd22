import { InputError } from "./errors";
import { parseMessageFilter } from "./searchCriteria";

describe("parseMessageFilter", () => {
  const none = { from: "", subject: "", hasAttachments: false, criteria: "" };

  test("nothing asked is no filter at all (no search is sent)", () => {
    expect(parseMessageFilter(none)).toEqual([]);
    expect(
      parseMessageFilter({
        from: undefined,
        subject: undefined,
        hasAttachments: false,
        criteria: undefined,
      }),
    ).toEqual([]);
  });

  test("From, Subject, attachments and criteria are ANDed, in that order", () => {
    expect(
      parseMessageFilter({
        from: "@supplier.example",
        subject: "Invoice",
        hasAttachments: true,
        criteria: '{"not": {"keyword": "$Done"}}',
      }),
    ).toEqual([
      { op: "text", atom: "FROM", value: "@supplier.example" },
      { op: "text", atom: "SUBJECT", value: "Invoice" },
      { op: "header", field: "Content-Type", value: "multipart/mixed" },
      { op: "not", operand: [{ op: "keyword", atom: "KEYWORD", flag: "$Done" }] },
    ]);
  });

  test("bad values are InputErrors naming the input", () => {
    expect(() => parseMessageFilter({ ...none, criteria: "[1]" })).toThrow(InputError);
    expect(() => parseMessageFilter({ ...none, criteria: "[1]" })).toThrow(
      /^Criteria must be a JSON object/,
    );
    expect(() => parseMessageFilter({ ...none, subject: "a\r\nb" })).toThrow(
      /^Subject "a\r\nb" contains a line break/,
    );
  });
});
