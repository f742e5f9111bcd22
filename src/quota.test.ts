import { quotaRootOf } from "./quota";

const atom = (value: string) => ({ type: "ATOM", value });

describe("quotaRootOf", () => {
  test("storage comes in units of 1024 octets and is given in bytes; other resources keep their names", () => {
    expect(
      quotaRootOf([
        { type: "STRING", value: "" },
        [
          atom("STORAGE"),
          atom("10"),
          atom("512"),
          atom("MESSAGE"),
          atom("3"),
          atom("4"),
          atom("MAILBOX"),
          atom("7"),
          atom("100"),
        ],
      ]),
    ).toEqual({
      root: "",
      storage: { usage: 10240, limit: 524288 },
      messages: { usage: 3, limit: 4 },
      other: { MAILBOX: { usage: 7, limit: 100 } },
      percentUsed: 75,
    });
  });

  test("an answer that is not name-usage-limit triples is unreadable, never a guess", () => {
    expect(quotaRootOf([atom("root"), [atom("STORAGE"), atom("10")]])).toBeUndefined();
    expect(quotaRootOf([atom("root"), [atom("STORAGE"), atom("ten"), atom("20")]])).toBeUndefined();
    expect(quotaRootOf([atom("root")])).toBeUndefined();
  });
});
