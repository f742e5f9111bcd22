import { createHash, randomBytes } from "node:crypto";
import { parseMessage } from "./parseMessage";
import { decodedSizeLimits } from "./readMessage";

const content = randomBytes(300_000);

function withAttachment(data: Buffer): Buffer {
  const lines = data.toString("base64").match(/.{1,76}/g) ?? [];
  return Buffer.from(
    [
      "From: alice@example.com",
      "Subject: Attached",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "See the file.",
      "--b",
      'Content-Type: application/octet-stream; name="data.bin"',
      "Content-Transfer-Encoding: base64",
      "",
      ...lines,
      "--b--",
      "",
    ].join("\r\n"),
  );
}

const source = withAttachment(content);
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("parseMessage: attachment content", () => {
  test("is received into one buffer of the largest size the part can decode to", async () => {
    const limit = content.length + 1000;
    const parsed = await parseMessage(source, {
      includeAttachments: true,
      maxAttachmentSize: 1_000_000,
      decodedSizeLimit: (partId) => (partId === "2" ? limit : undefined),
    });
    const [attachment] = parsed.attachments;
    expect(attachment?.content?.equals(content)).toBe(true);
    expect(attachment?.size).toBe(content.length);
    expect(attachment?.checksum).toBe(sha256(content));
    // the bytes sit in the buffer allocated up front, not in one made by joining chunks
    expect(attachment?.content?.buffer.byteLength).toBe(limit);
  });

  test("a part larger than its limit is still returned whole", async () => {
    const parsed = await parseMessage(source, {
      includeAttachments: true,
      maxAttachmentSize: 1_000_000,
      decodedSizeLimit: () => 1000,
    });
    expect(parsed.attachments[0]?.content?.equals(content)).toBe(true);
  });

  test("a limit far above the content is not kept alive with it", async () => {
    const parsed = await parseMessage(source, {
      includeAttachments: true,
      maxAttachmentSize: 10_000_000,
      decodedSizeLimit: () => 5_000_000,
    });
    const kept = parsed.attachments[0]?.content;
    expect(kept?.equals(content)).toBe(true);
    expect(kept?.buffer.byteLength).toBeLessThan(1_000_000);
  });

  test("over Max Attachment Size: no content, tooLarge, whatever the limit", async () => {
    const parsed = await parseMessage(source, {
      includeAttachments: true,
      maxAttachmentSize: 100_000,
      decodedSizeLimit: () => content.length,
    });
    expect(parsed.attachments[0]).toMatchObject({
      content: null,
      tooLarge: true,
      size: content.length,
      checksum: sha256(content),
    });
  });

  test("the limits from a BODYSTRUCTURE: 3 bytes per 4 base64 characters, the size otherwise", () => {
    const limit = decodedSizeLimits({
      type: "multipart/mixed",
      childNodes: [
        { part: "1", type: "text/plain", encoding: "quoted-printable", size: 120 },
        { part: "2", type: "application/pdf", encoding: "base64", size: 1001 },
        { part: "3", type: "application/x-thing", encoding: "x-uuencode", size: 50 },
      ],
    });
    expect(["1", "2", "3", "4"].map(limit)).toEqual([120, 751, undefined, undefined]);
  });
});
