import {
  checkDraft,
  parseAddressList,
  parseAttachments,
  parseHeaders,
  parseMessageIds,
} from "./compose";

describe("parseAddressList", () => {
  test("text, lists and { name, address } objects; '' is none", () => {
    expect(parseAddressList("", "To")).toEqual([]);
    expect(parseAddressList('"Example, Alice" <alice@example.com>, bob@example.com', "To")).toEqual(
      [
        { name: "Example, Alice", address: "alice@example.com" },
        { name: "", address: "bob@example.com" },
      ],
    );
    expect(
      parseAddressList(["carol@example.com", { name: "Dave", address: "dave@example.com" }], "Cc"),
    ).toEqual([
      { name: "", address: "carol@example.com" },
      { name: "Dave", address: "dave@example.com" },
    ]);
    expect(parseAddressList('["erin@example.com"]', "Bcc")).toEqual([
      { name: "", address: "erin@example.com" },
    ]);
  });

  test.each(["alice", "alice@", "alice@example", "<>"])("%j is refused", (text) => {
    expect(() => parseAddressList(text, "To")).toThrow(/^To: .* is not an email address/);
  });
});

describe("parseAttachments", () => {
  test("base64 content, file values from an earlier step and JSON", () => {
    expect(
      parseAttachments([
        { filename: "a.txt", contentType: "text/plain", content: "aGk=" },
        { name: "b.bin", data: Buffer.from([1, 2]), contentType: "application/octet-stream" },
      ]),
    ).toEqual([
      { filename: "a.txt", contentType: "text/plain", content: Buffer.from("hi") },
      { filename: "b.bin", contentType: "application/octet-stream", content: Buffer.from([1, 2]) },
    ]);
    expect(parseAttachments('{"filename": "c.txt", "content": "aGk="}')).toEqual([
      { filename: "c.txt", contentType: "application/octet-stream", content: Buffer.from("hi") },
    ]);
  });

  test.each([
    [[{ content: "aGk=" }], "has no file name"],
    [[{ filename: "a", content: "**" }], "is not base64"],
    [[{ filename: "a", content: "aGk=a" }], "not base64"],
    [[{ filename: "a", contentType: "pdf", content: "aGk=" }], "is not a content type"],
    [["a.txt"], "not an attachment"],
  ])("%j is refused", (value, message) => {
    expect(() => parseAttachments(value)).toThrow(message);
  });
});

test("parseHeaders takes key/value lists and objects, refuses own fields and line breaks", () => {
  expect(parseHeaders([{ key: "X-Ticket", value: "1" }])).toEqual([
    { key: "X-Ticket", value: "1" },
  ]);
  expect(parseHeaders('{"X-A": "b"}')).toEqual([{ key: "X-A", value: "b" }]);
  expect(() => parseHeaders({ "Message-ID": "<x@y>" })).toThrow("set by its own input");
  expect(() => parseHeaders({ "X-A": "a\nb" })).toThrow("one line");
  expect(() => parseHeaders({ "X A": "b" })).toThrow("is not a header name");
});

test("parseMessageIds adds angle brackets and refuses what is not a Message-ID", () => {
  expect(parseMessageIds("a@x <b@y>", "References")).toEqual(["<a@x>", "<b@y>"]);
  expect(() => parseMessageIds("nothing", "References")).toThrow("is not a Message-ID");
});

test("checkDraft refuses a draft without recipient, subject and body", () => {
  const empty = {
    from: [],
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    subject: "",
    attachments: [],
    references: [],
    headers: [],
  };
  expect(() => checkDraft(empty)).toThrow("The draft is empty");
  expect(() => checkDraft({ ...empty, subject: "Hi" })).not.toThrow();
});
