import { readState } from "./poll";

describe("readState", () => {
  const warnings: string[] = [];
  const logger = {
    info: () => undefined,
    warn: (...args: unknown[]) => warnings.push(args.map(String).join(" ")),
  };

  beforeEach(() => {
    warnings.length = 0;
  });

  test("no state is a first poll, without a warning", () => {
    expect(readState({}, logger)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  test("a state the trigger wrote is read back as it is", () => {
    expect(readState({ mailbox: "INBOX", uidValidity: "1795652831", lastUid: 0 }, logger)).toEqual({
      mailbox: "INBOX",
      uidValidity: "1795652831",
      lastUid: 0,
    });
  });

  test("a state the trigger did not write starts again, with a warning", () => {
    for (const saved of [
      { mailbox: "INBOX", uidValidity: 17, lastUid: 3 },
      { mailbox: "INBOX", uidValidity: "17", lastUid: "3" },
      { lastUid: 3 },
      { mailbox: "INBOX", uidValidity: "17", lastUid: -1 },
    ]) {
      expect(readState(saved, logger)).toBeUndefined();
    }
    expect(warnings).toHaveLength(4);
    expect(warnings[0]).toBe(
      'New Emails: the saved polling state is not one this trigger wrote ({"mailbox":"INBOX","uidValidity":17,"lastUid":3}); starting again from the newest message.',
    );
  });
});
