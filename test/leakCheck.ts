/**
 * Runs around every integration test: whatever the test opened (sockets, timers) must be closed
 * once it ends. This is the open-handle check of the whole suite, so jest can run two workers
 * (jest's --detectOpenHandles would force one).
 */
import { openResources, resourcesAfter } from "./helpers";

let before = openResources();

beforeEach(() => {
  before = openResources();
});

afterEach(async () => {
  expect(await resourcesAfter(before)).toEqual(before);
});
