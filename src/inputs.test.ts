import { InputError } from "./errors";
import {
  parseBool,
  parseFlag,
  parseFlags,
  parseLabels,
  parseLimit,
  parseMailbox,
  parseUid,
  parseUidSet,
  parseUidValidity,
} from "./inputs";

function errorOf(work: () => unknown): InputError {
  try {
    work();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error("expected an InputError, but it succeeded");
}

const SET_HINT = "Use a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).";

describe("parseUidSet", () => {
  test.each<[unknown, { text: string; singles: number[]; ranges: string[] }]>([
    ["42", { text: "42", singles: [42], ranges: [] }],
    ["1,5,9", { text: "1,5,9", singles: [1, 5, 9], ranges: [] }],
    [" 1 , 5 ", { text: "1,5", singles: [1, 5], ranges: [] }],
    ["10:20", { text: "10:20", singles: [], ranges: ["10:20"] }],
    ["100:*", { text: "100:*", singles: [], ranges: ["100:*"] }],
    ["*", { text: "*", singles: [], ranges: ["*"] }],
    ["3,10:20,7", { text: "3,10:20,7", singles: [3, 7], ranges: ["10:20"] }],
    [["1", "2:3"], { text: "1,2:3", singles: [1], ranges: ["2:3"] }],
    [7, { text: "7", singles: [7], ranges: [] }],
    ["4294967295", { text: "4294967295", singles: [4294967295], ranges: [] }],
  ])("%j", (value, expected) => {
    expect(parseUidSet(value)).toEqual(expected);
  });

  test.each<[unknown, string]>([
    ["abc", `UIDs "abc" is not a UID set (at "abc"). ${SET_HINT}`],
    ["1;2", `UIDs "1;2" is not a UID set (at "1;2"). ${SET_HINT}`],
    ["0", `UIDs "0" is not a UID set (at "0": UIDs run from 1 to 4294967295). ${SET_HINT}`],
    ["0:5", `UIDs "0:5" is not a UID set (at "0:5": UIDs run from 1 to 4294967295). ${SET_HINT}`],
    ["1,,2", `UIDs "1,,2" is not a UID set (an empty item between two commas). ${SET_HINT}`],
    ["-1", `UIDs "-1" is not a UID set (at "-1"). ${SET_HINT}`],
    ["1:2:3", `UIDs "1:2:3" is not a UID set (at "1:2:3"). ${SET_HINT}`],
    ["1.5", `UIDs "1.5" is not a UID set (at "1.5"). ${SET_HINT}`],
    [
      "4294967296",
      `UIDs "4294967296" is not a UID set (at "4294967296": UIDs run from 1 to 4294967295). ${SET_HINT}`,
    ],
    [
      "",
      `UIDs is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    ],
    [
      "  ",
      `UIDs is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    ],
    [
      undefined,
      `UIDs is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    ],
    [
      [],
      `UIDs is empty: give a UID (42), a list (1,5,9), a range (10:20) or an open range (100:*).`,
    ],
    [{ uid: 1 }, 'UIDs must be text, not {"uid":1}.'],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseUidSet(value)).message).toBe(message);
  });
});

describe("parseUid", () => {
  test.each<[unknown, number]>([
    ["42", 42],
    [" 7 ", 7],
    [42, 42],
    ["4294967295", 4294967295],
  ])("%j", (value, expected) => {
    expect(parseUid(value)).toBe(expected);
  });

  test.each<[unknown, string]>([
    ["abc", 'UID "abc" is not a message UID: give one positive whole number, e.g. 42.'],
    ["1;2", 'UID "1;2" is not a message UID: give one positive whole number, e.g. 42.'],
    ["1,2", 'UID "1,2" is not a message UID: give one positive whole number, e.g. 42.'],
    ["", 'UID "" is not a message UID: give one positive whole number, e.g. 42.'],
    ["1.5", 'UID "1.5" is not a message UID: give one positive whole number, e.g. 42.'],
    [-3, "UID -3 is not a message UID: give one positive whole number, e.g. 42."],
    ["0", "UID 0 is out of range: UIDs run from 1 to 4294967295."],
    ["4294967296", "UID 4294967296 is out of range: UIDs run from 1 to 4294967295."],
    [{}, "UID must be text, not {}."],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseUid(value)).message).toBe(message);
  });
});

const BAD_KEYWORD =
  "is not a valid flag: keywords are ASCII without spaces, parentheses, braces, quotes, backslashes, %, *, ] or control characters (e.g. $Label1).";

describe("parseFlag", () => {
  test.each([
    ["\\Seen", "\\Seen"],
    ["\\seen", "\\Seen"],
    [" \\FLAGGED ", "\\Flagged"],
    ["$Label1", "$Label1"],
    ["NonJunk", "NonJunk"],
  ])("%j", (value, expected) => {
    expect(parseFlag(value)).toBe(expected);
  });

  test.each([
    ["\\Recent", "Flags: \\Recent is set by the server alone and cannot be added, removed or set."],
    ["\\recent", "Flags: \\Recent is set by the server alone and cannot be added, removed or set."],
    [
      "\\Important",
      'Flags: "\\Important" is not a system flag. System flags are \\Seen, \\Answered, \\Flagged, \\Deleted and \\Draft; keywords have no backslash (e.g. $Label1).',
    ],
    ["has space", `Flags: "has space" ${BAD_KEYWORD}`],
    ["(x)", `Flags: "(x)" ${BAD_KEYWORD}`],
    ['"q"', `Flags: ""q"" ${BAD_KEYWORD}`],
    ["a\u0001b", `Flags: "a\u0001b" ${BAD_KEYWORD}`],
    ["Grüße", `Flags: "Grüße" ${BAD_KEYWORD}`],
    ["a*", `Flags: "a*" ${BAD_KEYWORD}`],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseFlag(value)).message).toBe(message);
  });
});

describe("parseFlags", () => {
  test("accepts a list, comma-separated text and a JSON list, normalises and de-duplicates", () => {
    expect(parseFlags(["\\seen", "$Done", "\\Seen"], { required: true })).toEqual([
      "\\Seen",
      "$Done",
    ]);
    expect(parseFlags("\\Seen, \\Flagged", { required: true })).toEqual(["\\Seen", "\\Flagged"]);
    expect(parseFlags('["$A", "$B"]', { required: true })).toEqual(["$A", "$B"]);
    expect(parseFlags(["", "\\Draft"], { required: true })).toEqual(["\\Draft"]);
  });

  test("an empty optional list is empty; an empty required one is refused", () => {
    expect(parseFlags("", { required: false })).toEqual([]);
    expect(parseFlags(undefined, { required: false })).toEqual([]);
    expect(parseFlags([], { required: false })).toEqual([]);
    expect(errorOf(() => parseFlags("", { required: true })).message).toBe(
      "Flags is empty: give at least one flag, e.g. \\Seen.",
    );
    expect(errorOf(() => parseFlags([" "], { required: true })).message).toBe(
      "Flags is empty: give at least one flag, e.g. \\Seen.",
    );
  });

  test.each<[unknown, string]>([
    [["\\Seen", "has space"], `Flags: "has space" ${BAD_KEYWORD}`],
    [
      "\\Seen,\\Recent",
      "Flags: \\Recent is set by the server alone and cannot be added, removed or set.",
    ],
    [[5], "Flags: 5 is not a flag."],
    [42, "Flags must be a list of flags, not 42."],
    ["[broken", 'Flags "[broken" is not a list of flags.'],
    ['{"a":1}', `Flags: "{"a":1}" ${BAD_KEYWORD}`],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseFlags(value, { required: true })).message).toBe(message);
  });
});

describe("parseLimit", () => {
  const bounds = { min: 1, max: 1000, fallback: 50 };
  test.each<[unknown, number]>([
    ["", 50],
    [undefined, 50],
    ["10", 10],
    [1000, 1000],
    [" 7 ", 7],
  ])("%j", (value, expected) => {
    expect(parseLimit(value, "Limit", bounds)).toBe(expected);
  });

  test.each<[unknown, string]>([
    ["abc", 'Limit "abc" is not a whole number.'],
    ["1.5", 'Limit "1.5" is not a whole number.'],
    ["-1", 'Limit "-1" is not a whole number.'],
    ["0", "Limit must be from 1 to 1000, not 0."],
    ["1001", "Limit must be from 1 to 1000, not 1001."],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseLimit(value, "Limit", bounds)).message).toBe(message);
  });
});

describe("parseBool", () => {
  test.each<[unknown, boolean, boolean]>([
    [true, false, true],
    [false, true, false],
    ["true", false, true],
    ["FALSE", true, false],
    ["", true, true],
    [undefined, false, false],
  ])("%j (default %j)", (value, fallback, expected) => {
    expect(parseBool(value, "Include Attachments", fallback)).toBe(expected);
  });

  test.each<[unknown, string]>([
    ["yes", 'Include Attachments must be true or false, not "yes".'],
    ["0", 'Include Attachments must be true or false, not "0".'],
    ["off", 'Include Attachments must be true or false, not "off".'],
  ])("%j is refused (spectral's toBool would call it true)", (value, message) => {
    expect(errorOf(() => parseBool(value, "Include Attachments", false)).message).toBe(message);
  });
});

describe("parseMailbox", () => {
  test.each([
    ["INBOX", "INBOX"],
    ["Projekte/Grüße & 日本語", "Projekte/Grüße & 日本語"],
    // Spaces are part of a mailbox name: kept as given.
    [" Archive ", " Archive "],
  ])("%j", (value, expected) => {
    expect(parseMailbox(value)).toBe(expected);
  });

  test.each<[unknown, string]>([
    ["", "Mailbox is empty: give a mailbox path such as INBOX."],
    ["   ", "Mailbox is empty: give a mailbox path such as INBOX."],
    [undefined, "Mailbox is empty: give a mailbox path such as INBOX."],
    ["a\r\nb", 'Mailbox "a\r\nb" contains control characters.'],
    [{ path: "INBOX" }, 'Mailbox must be text, not {"path":"INBOX"}.'],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseMailbox(value)).message).toBe(message);
  });

  test("names the input it parses", () => {
    expect(errorOf(() => parseMailbox("", "Destination")).message).toBe(
      "Destination is empty: give a mailbox path such as INBOX.",
    );
  });
});

describe("parseUidValidity", () => {
  test.each<[unknown, string | undefined]>([
    ["", undefined],
    [undefined, undefined],
    ["1764115968", "1764115968"],
    [" 0042 ", "42"],
    [4294967295, "4294967295"],
  ])("%j is %j", (value, expected) => {
    expect(parseUidValidity(value)).toBe(expected);
  });

  test.each(["0", "4294967296", "-1", "1.5", "12345678901", "abc"])("%j is refused", (value) => {
    expect(errorOf(() => parseUidValidity(value)).message).toBe(
      `UIDVALIDITY "${value}" is not a UIDVALIDITY: give the uidValidity of the step that found the UIDs, a whole number from 1 to 4294967295, or leave it empty.`,
    );
  });
});

describe("parseLabels", () => {
  test.each<[unknown, string[]]>([
    [
      ["Invoices", " Clients/Acme ", "Invoices"],
      ["Invoices", "Clients/Acme"],
    ],
    ["Muy Importante", ["Muy Importante"]],
    ['["\\\\Inbox", "Grüße"]', ["\\Inbox", "Grüße"]],
  ])("%j is %j", (value, expected) => {
    expect(parseLabels(value)).toEqual(expected);
  });

  test.each<[unknown, string]>([
    [[], "Labels is empty: give at least one label, e.g. Invoices."],
    ["", "Labels is empty: give at least one label, e.g. Invoices."],
    [[" "], "Labels is empty: give at least one label, e.g. Invoices."],
    [["a\nb"], 'Labels: "a\nb" contains control characters.'],
    [[5], "Labels: 5 is not a label."],
    ["[1,", 'Labels "[1," is not a list of labels.'],
  ])("%j is refused", (value, message) => {
    expect(errorOf(() => parseLabels(value)).message).toBe(message);
  });
});
