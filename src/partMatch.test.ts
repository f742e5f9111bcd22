import type { MessageStructureObject } from "imapflow";
import type { AttachmentShape } from "./partMatch";
import { matchAttachments, sizeAgrees, withServerParts } from "./partMatch";

const structure: MessageStructureObject = {
  type: "multipart/mixed",
  childNodes: [
    { part: "1", type: "text/plain", size: 40 },
    { part: "2", type: "text/plain", size: 0 },
    {
      part: "3",
      type: "image/gif",
      encoding: "base64",
      size: 56,
      parameters: { name: "dot.gif" },
    },
    {
      part: "4",
      type: "message/rfc822",
      encoding: "7bit",
      size: 174,
      childNodes: [{ part: "4", type: "text/plain", size: 10 }],
    },
  ],
};

const attachment = (fields: Partial<AttachmentShape>): AttachmentShape => ({
  partId: "2",
  contentType: "image/gif",
  filename: "dot.gif",
  contentId: null,
  size: 42,
  ...fields,
});

describe("matchAttachments", () => {
  test("by type and name, not by the parser's number: the gif is the server's part 3", () => {
    expect(matchAttachments([attachment({})], structure).map((part) => part?.partId)).toEqual([
      "3",
    ]);
  });
  test("an attachment the server has no part for is null", () => {
    expect(
      matchAttachments(
        [attachment({ contentType: "application/pdf", filename: "a.pdf" })],
        structure,
      ),
    ).toEqual([null]);
    expect(matchAttachments([attachment({})], undefined)).toEqual([null]);
  });
  test("a name decoded otherwise by the server still matches; each part is taken once", () => {
    const parts = matchAttachments(
      [
        attachment({ partId: "5", filename: "Frösche.gif" }),
        attachment({ partId: "6", filename: "Frösche.gif" }),
      ],
      {
        type: "multipart/mixed",
        childNodes: [
          { part: "1", type: "image/gif", parameters: { name: "Frï¿½sche.gif" } },
          { part: "2", type: "image/gif", parameters: { name: "Frï¿½sche.gif" } },
        ],
      },
    );
    expect(parts.map((part) => part?.partId)).toEqual(["1", "2"]);
  });
});

test("a name the server leaves encoded (UTF-7): the named part of that type with the parser's number; never an unnamed one", () => {
  const utf7: MessageStructureObject = {
    type: "multipart/mixed",
    childNodes: [
      { part: "1", type: "text/plain" },
      { part: "2", type: "application/pdf", parameters: { name: "+ANw-bersicht.pdf" } },
      { part: "3", type: "application/pdf" },
    ],
  };
  const pdf = { contentType: "application/pdf", filename: "Übersicht.pdf" };
  expect(
    matchAttachments([attachment({ ...pdf, partId: "2" })], utf7).map((p) => p?.partId),
  ).toEqual(["2"]);
  expect(matchAttachments([attachment({ ...pdf, partId: "3" })], utf7)).toEqual([null]);
});

describe("sizeAgrees and withServerParts", () => {
  test("identity: equal sizes; base64: about 3/4 of the text", () => {
    const gif = {
      partId: "3",
      contentType: "image/gif",
      filename: null,
      encoding: "base64",
      size: 56,
      contentId: null,
      charset: null,
      disposition: null,
      multipart: false,
      children: [],
    };
    expect([
      sizeAgrees(42, gif),
      sizeAgrees(41, gif),
      sizeAgrees(60, gif),
      sizeAgrees(10, gif),
    ]).toEqual([true, true, false, false]);
    const eml = { ...gif, encoding: "7bit", size: 174 };
    expect([sizeAgrees(174, eml), sizeAgrees(172, eml)]).toEqual([true, false]);
  });
  test("an attached message 2 bytes shorter than the server's part: its size is the server's, its bytes to be read", () => {
    const { attachments, disagreeing } = withServerParts(
      [attachment({ partId: "4", contentType: "message/rfc822", filename: null, size: 172 })],
      structure,
    );
    expect(attachments.map((a) => [a.partId, a.size])).toEqual([["4", 174]]);
    expect(disagreeing.map((entry) => [entry.index, entry.part.partId])).toEqual([[0, "4"]]);
  });
});
