import Ajv from "ajv";
import { deliveredInMailbox, newEmailsBody } from "../schemas";
import { newEmails } from "../triggers/newEmails";
import { newEmailsBatched } from "../triggers/newEmailsBatched";
import { actions } from ".";

/** Every action declares the schema of its data, and its examplePayload is an instance of it. */
const ajv = new Ajv({ strict: true, allowUnionTypes: true });

type Declared =
  | { type: "actionOutput"; schema: object }
  | { type: "branchingOutput"; branchSchemas: Record<string, object> };

const all = actions as Record<
  string,
  { outputSchema?: Declared; examplePayload?: { data?: unknown; branch?: string } }
>;

describe("outputSchema", () => {
  test.each(Object.keys(all))(
    "%s declares one, valid in strict mode, that its example matches",
    (key) => {
      const action = all[key];
      const declared = action?.outputSchema;
      expect(declared?.type).toMatch(/^(actionOutput|branchingOutput)$/);
      if (!declared) return;
      const schemas =
        declared.type === "actionOutput"
          ? [declared.schema]
          : Object.values(declared.branchSchemas);
      for (const schema of schemas) expect(ajv.validateSchema(schema)).toBe(true);
      const example = action?.examplePayload;
      const schema =
        declared.type === "actionOutput"
          ? declared.schema
          : declared.branchSchemas[example?.branch ?? ""];
      expect(schema).not.toBeUndefined();
      if (!schema || Buffer.isBuffer(example?.data)) return;
      const check = ajv.compile(schema);
      const valid = check(JSON.parse(JSON.stringify(example?.data)));
      expect(valid ? "matches" : ajv.errorsText(check.errors)).toBe("matches");
    },
  );
});

describe("what the triggers deliver", () => {
  test("the examples of newEmails and newEmailsBatched match their schemas", () => {
    const body = (newEmails.examplePayload as { payload: { body: { data: unknown } } }).payload.body
      .data;
    const checkBody = ajv.compile(newEmailsBody);
    expect(checkBody(JSON.parse(JSON.stringify(body))) || ajv.errorsText(checkBody.errors)).toBe(
      true,
    );
    // one execution's data: the one message of a batch of 1 (a list for larger batches)
    const data = (newEmailsBatched.examplePayload as { payload: { body: { data: unknown } } })
      .payload.body.data;
    const items = Array.isArray(data) ? data : [data];
    const checkItem = ajv.compile(deliveredInMailbox);
    expect(items.length).toBeGreaterThan(0);
    for (const item of items)
      expect(checkItem(JSON.parse(JSON.stringify(item))) || ajv.errorsText(checkItem.errors)).toBe(
        true,
      );
  });
});
