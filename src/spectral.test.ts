/**
 * src/spectral.ts builds the component from spectral's own modules instead of its index (which
 * loads all of spectral at every step): what each builder returns must be what the index's does.
 * The component as a whole is checked by the manifest (`npm run manifest`), which the build from
 * these builders must leave unchanged but for its signature.
 */
import * as index from "@prismatic-io/spectral";
import * as narrow from "./spectral";

/** A definition's shape with functions named by kind only, so that two builds compare. */
const shape = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_key, field: unknown) =>
      typeof field === "function" ? `[function ${field.length}]` : field,
    ),
  );

const perform = async () => ({ payload: { headers: {}, body: { data: null } } });

test("the definition builders return their definition, as the index's do", () => {
  const definition = { display: { label: "X", description: "Y" }, perform, inputs: {} };
  expect(narrow.action(definition as never)).toBe(definition);
  expect(narrow.dataSource(definition as never)).toBe(definition);
  expect(narrow.input({ label: "I", type: "string" })).toEqual(
    index.input({ label: "I", type: "string" }),
  );
  const connection = { key: "c", display: { label: "C", description: "D" }, inputs: {} };
  expect(narrow.connection(connection as never)).toBe(connection);
  expect(narrow.oauth2Connection(connection as never)).toBe(connection);
});

test("pollingTrigger and batchTrigger give the index's shape", () => {
  const polling = { display: { label: "P", description: "Q" }, perform, inputs: {} };
  expect(shape(narrow.pollingTrigger(polling as never))).toEqual(
    shape(index.pollingTrigger(polling as never)),
  );
  const batched = {
    display: { label: "B", description: "C" },
    perform,
    inputs: {},
    onDeploy: { perform, inputs: {} },
  };
  expect(shape(narrow.batchTrigger(batched as never))).toEqual(
    shape(index.batchTrigger(batched as never)),
  );
  const withoutDeploy = { display: { label: "B", description: "C" }, perform, inputs: {} };
  expect(shape(narrow.batchTrigger(withoutDeploy as never))).toEqual(
    shape(index.batchTrigger(withoutDeploy as never)),
  );
});

test("the errors are spectral's own classes", () => {
  expect(narrow.ConnectionError).toBe(index.ConnectionError);
  expect(narrow.SpectralError).toBe(index.SpectralError);
  expect(narrow.OAuth2Type).toBe(index.OAuth2Type);
  expect(narrow.templateConnectionInputs).toBe(index.templateConnectionInputs);
});
