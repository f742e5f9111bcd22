import type { Original, ReplyOptions } from "./reply";
import {
  decodeCharset,
  quoteText,
  recipients,
  replySubject,
  shortenReferences,
  threading,
} from "./reply";

const original: Original = {
  messageId: "<c@example.com>",
  inReplyTo: "<b@example.com>",
  references: ["<a@example.com>", "<b@example.com>"],
  subject: "Order",
  date: "Tue, 24 Nov 2026 10:00:00 +0000",
  from: [{ name: "Alice", address: "alice@example.com" }],
  replyTo: [],
  to: [
    { name: "Support", address: "Support@Example.com" },
    { name: "Bob", address: "bob@example.com" },
  ],
  cc: [
    { name: "", address: "alice@example.com" },
    { name: "Carol", address: "carol@example.com" },
  ],
  text: "Hi",
  html: null,
};

const options = (mode: ReplyOptions["mode"], extra: Partial<ReplyOptions> = {}): ReplyOptions => ({
  mode,
  from: [],
  to: [],
  cc: [],
  quoteOriginal: true,
  exclude: ["support@example.com"],
  ...extra,
});

describe("replySubject", () => {
  test.each([
    ["Order", "reply", "Re: Order"],
    ["Re: Order", "reply", "Re: Order"],
    ["RE: re[2]: Aw: Order", "replyAll", "Re: Order"],
    ["Fwd: Order", "reply", "Re: Fwd: Order"],
    ["Re: Order", "forward", "Fwd: Re: Order"],
    ["FW: Fwd: Order", "forward", "Fwd: Order"],
    ["", "reply", "Re: "],
    ["Review: draft", "reply", "Re: Review: draft"],
  ] as const)("%j as %s is %j", (subject, mode, expected) => {
    expect(replySubject(subject, mode)).toBe(expected);
  });
});

describe("threading", () => {
  test("References are the original's References and its Message-ID; In-Reply-To its Message-ID", () => {
    expect(threading(original, "reply")).toEqual({
      inReplyTo: "<c@example.com>",
      references: ["<a@example.com>", "<b@example.com>", "<c@example.com>"],
    });
    expect(threading(original, "forward")).toEqual({
      references: ["<a@example.com>", "<b@example.com>", "<c@example.com>"],
    });
  });

  test("without References, the original's In-Reply-To stands for them; without Message-ID there is no In-Reply-To", () => {
    expect(threading({ ...original, references: [], messageId: "" }, "reply")).toEqual({
      references: ["<b@example.com>"],
    });
  });

  test("a long thread is shortened from the middle: the root and the newest stay", () => {
    const ids = Array.from({ length: 40 }, (_, i) => `<m${i}@example.com>`);
    const short = shortenReferences(ids);
    expect(short).toHaveLength(20);
    expect(short[0]).toBe("<m0@example.com>");
    expect(short.slice(1)).toEqual(ids.slice(21));
  });
});

describe("recipients", () => {
  test("reply: the sender; reply-all: also To and Cc, without own addresses and duplicates (any letter case)", () => {
    expect(recipients(original, options("reply"))).toEqual({ to: original.from, cc: [] });
    expect(recipients(original, options("replyAll"))).toEqual({
      to: [original.from[0], { name: "Bob", address: "bob@example.com" }],
      cc: [{ name: "Carol", address: "carol@example.com" }],
    });
  });

  test("Reply-To wins over From; a reply to one's own message goes to its recipients", () => {
    const help = [{ name: "Help", address: "help@example.com" }];
    expect(recipients({ ...original, replyTo: help }, options("reply")).to).toEqual(help);
    const own = { ...original, from: [{ name: "", address: "support@example.com" }] };
    expect(recipients(own, options("reply")).to).toEqual([
      { name: "Bob", address: "bob@example.com" },
    ]);
  });

  test("forward: only the given recipients", () => {
    const to = [{ name: "", address: "x@example.com" }];
    expect(recipients(original, options("forward", { to }))).toEqual({ to, cc: [] });
  });
});

test("quoteText nests quotes as mail clients do", () => {
  expect(quoteText("Hi\r\n\r\n> earlier\nend\n\n")).toBe("> Hi\n>\n>> earlier\n> end");
});

test("decodeCharset decodes the declared charset, UTF-8 for none or an unknown one", () => {
  expect(decodeCharset(Buffer.from([0x4b, 0xf6, 0x6c, 0x6e]), "iso-8859-1")).toBe("Köln");
  expect(decodeCharset(Buffer.from("Köln", "utf8"), null)).toBe("Köln");
  expect(decodeCharset(Buffer.from("Köln", "utf8"), "x-unknown")).toBe("Köln");
});
