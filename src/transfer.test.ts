import { messageIdOf } from "./transfer";

describe("messageIdOf", () => {
  test("reads the Message-ID from the header section only, unfolded", () => {
    const raw = Buffer.from("Subject: x\r\nMessage-ID:\r\n <a@b>\r\n\r\nMessage-ID: <body@b>\r\n");
    expect(messageIdOf(raw)).toBe("<a@b>");
    expect(messageIdOf(Buffer.from("message-id: <lf@b>\n\nbody"))).toBe("<lf@b>");
  });

  test("is empty without one", () => {
    expect(messageIdOf(Buffer.from("Subject: x\r\n\r\nMessage-ID: <body@b>\r\n"))).toBe("");
    expect(messageIdOf(undefined)).toBe("");
  });
});
