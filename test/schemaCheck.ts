/**
 * Every output the integration tests get from the component is checked against the schema the
 * component declares for it (ajv, strict mode): each action's `data` against its outputSchema
 * (per branch for a branching action), and what the triggers deliver against theirs. A field
 * added without its schema, or a schema that says something the output does not do, fails the
 * test that produced it.
 */
import Ajv from "ajv";
import { actions } from "../src/actions";
import { deliveredInMailbox, newEmailsBody } from "../src/schemas";

const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });

type Declared =
  | { type: "actionOutput"; schema: object }
  | { type: "branchingOutput"; branchSchemas: Record<string, object> };

const compiled = new Map<object, ReturnType<typeof ajv.compile>>();

function validate(schema: object, value: unknown, what: string): void {
  let check = compiled.get(schema);
  if (!check) {
    check = ajv.compile(schema);
    compiled.set(schema, check);
  }
  // Binary outputs (a Buffer) are files, not JSON: their schema only describes them.
  if (Buffer.isBuffer(value)) return;
  if (!check(JSON.parse(JSON.stringify(value)))) {
    throw new Error(
      `${what} does not match its declared schema: ${ajv.errorsText(check.errors, { separator: "; " })}`,
    );
  }
}

/** The schema of `data` an action declares for `branch`, or undefined when it declares none. */
export function declaredSchema(key: string, branch?: string): object | undefined {
  const declared = (actions as Record<string, { outputSchema?: Declared }>)[key]?.outputSchema;
  if (!declared) return undefined;
  if (declared.type === "actionOutput") return declared.schema;
  return branch === undefined ? undefined : declared.branchSchemas[branch];
}

export function checkActionResult(key: string, result: unknown): void {
  const { data, branch } = (result ?? {}) as { data?: unknown; branch?: string };
  const schema = declaredSchema(key, branch);
  if (!schema)
    throw new Error(`action ${key} declares no output schema${branch ? ` for ${branch}` : ""}`);
  validate(schema, data, `the output of ${key}${branch ? ` (${branch})` : ""}`);
}

export function checkTriggerResult(key: string, result: unknown): void {
  const data = (result as { payload?: { body?: { data?: unknown } } } | undefined)?.payload?.body
    ?.data;
  if (key === "newEmailsBatched") {
    for (const item of (data as unknown[] | undefined) ?? [])
      validate(deliveredInMailbox, item, "a message delivered by newEmailsBatched");
  } else {
    validate(newEmailsBody, data, `the body delivered by ${key}`);
  }
}
