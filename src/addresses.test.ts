import { addressDecoders, parseAddressList } from "./addresses";

const parse = (text: string) => parseAddressList(text, addressDecoders);

describe("parseAddressList: RFC 5322 3.4 and the obsolete syntax section 4 says to read", () => {
  test.each([
    ["John Doe <jdoe@machine.example>", [{ name: "John Doe", address: "jdoe@machine.example" }]],
    [
      '"Joe Q. Public" <john.q.public@example.com>',
      [{ name: "Joe Q. Public", address: "john.q.public@example.com" }],
    ],
    // A.5: comments everywhere, a group with a comment in its name
    [
      "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
      [{ name: "Pete", address: "pete@silly.test" }],
    ],
    [
      "A Group(Some people):Chris Jones <c@(Chris's host.)public.example>, joe@example.org, John <jdoe@one.test> (my dear friend); (the end of the group)",
      [
        { name: "Chris Jones", address: "c@public.example" },
        { name: "", address: "joe@example.org" },
        { name: "John", address: "jdoe@one.test" },
      ],
    ],
    // A.6.1 obsolete phrase with a dot; A.6.2: a route, an empty element, spaces around the dot
    [
      "Joe Q. Public <john.q.public@example.com>",
      [{ name: "Joe Q. Public", address: "john.q.public@example.com" }],
    ],
    [
      "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
      [
        { name: "Mary Smith", address: "mary@example.net" },
        { name: "", address: "jdoe@test.example" },
      ],
    ],
    ["<@a.example,@b.example:x@c.example>", [{ name: "", address: "x@c.example" }]],
    // empty groups and empty lists invent nothing
    ["Undisclosed recipients:;", []],
    ["", []],
    [" , ,", []],
    // a comment after a bare address names it
    ["jdoe@example.com (John Doe)", [{ name: "John Doe", address: "jdoe@example.com" }]],
    ['"quoted local"@example.com', [{ name: "", address: '"quoted local"@example.com' }]],
  ])("%s", (input, expected) => {
    expect(parse(input)).toEqual(expected);
  });

  test("names: encoded words (also with raw 8-bit bytes inside), raw UTF-8, raw Latin-1", () => {
    const utf8 = Buffer.from("Jürgen", "utf8").toString("latin1");
    expect(
      parse(
        `=?iso-8859-1?Q?Fr\xf6sche?= <f@example.com>, ${utf8} <j@example.com>, Ren\xe9 <r@example.com>`,
      ),
    ).toEqual([
      { name: "Frösche", address: "f@example.com" },
      { name: "Jürgen", address: "j@example.com" },
      { name: "René", address: "r@example.com" },
    ]);
  });
});
