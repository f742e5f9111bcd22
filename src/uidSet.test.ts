import { parseUidSet } from "./inputs";
import { mergeRanges, requestedIntervals, toRanges, uidSetOf } from "./uidSet";

describe("requestedIntervals", () => {
  test("merges singles and ranges; n:* means n and above; a lone * is the highest UID", () => {
    expect(requestedIntervals(parseUidSet("5,1,10:*,3:2"), 40)).toEqual([
      { lo: 1, hi: 3 },
      { lo: 5, hi: 5 },
      { lo: 10, hi: Infinity },
    ]);
    expect(requestedIntervals(parseUidSet("*"), 40)).toEqual([{ lo: 40, hi: 40 }]);
    expect(requestedIntervals(parseUidSet("*:7"), 40)).toEqual([{ lo: 7, hi: Infinity }]);
  });
});

describe("uidSetOf", () => {
  test("joins consecutive UIDs", () => {
    expect(uidSetOf([1, 2, 3, 5, 7, 8])).toBe("1:3,5,7:8");
    expect(uidSetOf([4])).toBe("4");
    expect(uidSetOf([])).toBe("");
  });

  test("joins across gaps only inside one requested interval, where the missing UIDs can never exist", () => {
    const within = requestedIntervals(parseUidSet("1,3,10:*"), 0);
    // 2 was not asked for (it may exist and must not be named); 11..19 were asked for and do not exist.
    expect(uidSetOf([1, 3, 10, 12, 20], within)).toBe("1,3,10:20");
  });
});

describe("toRanges and mergeRanges", () => {
  test("sort, and join overlapping and adjacent ranges", () => {
    expect(toRanges([9, 1, 2, 3, 7])).toEqual([
      [1, 3],
      [7, 7],
      [9, 9],
    ]);
    expect(
      mergeRanges([
        [10, 20],
        [1, 4],
        [5, 6],
        [15, 30],
      ]),
    ).toEqual([
      [1, 6],
      [10, 30],
    ]);
  });
});
