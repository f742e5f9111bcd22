// Writes manifest/, the component manifest that code-native integrations depend on, with
// spectral's own generator (offline: the signature is computed from dist/ without asking
// Prismatic), and gives the package the component's version so that the same component always
// yields the same files (the generator would stamp the current time).

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(root, "node_modules", ".bin");
const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` };
const run = (command, args) => execFileSync(command, args, { cwd: root, env, stdio: "inherit" });

run("node", [path.join(root, "scripts", "build.mjs")]);
run(path.join(bin, "component-manifest"), ["--skip-signature-verify", "--output-dir", "manifest"]);

const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const file = path.join(root, "manifest", "package.json");
const manifest = JSON.parse(readFileSync(file, "utf8"));
writeFileSync(file, `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);

// spectral 10.31's component() keeps each outputSchema in the platform's form (the schema as JSON
// text, a branching action's schemas as a list), and its generator writes that form into the
// manifest, where ComponentManifest types them as JSON Schema objects by branch name: turn them
// back, so that a code-native integration type-checks against the manifest.
const actionsDir = path.join(root, "manifest", "src", "actions");
for (const name of readdirSync(actionsDir)) {
  const source = path.join(actionsDir, name);
  const text = readFileSync(source, "utf8");
  const fixed = text
    .replace(/(schema:\s*)('(?:[^'\\]|\\.)*')/g, "$1JSON.parse($2)")
    // and a branching action's schemas as a record by branch name, not a list of { name, schema }
    .replace(/branchSchemas: \[([\s\S]*?)\n {4}\],/g, (_all, list) => {
      const entries = [
        ...list.matchAll(/name: ("[^"]*"),\s*schema:\s*(JSON\.parse\('(?:[^'\\]|\\.)*'\))/g),
      ];
      return `branchSchemas: {\n${entries.map(([, name, schema]) => `      ${name}: ${schema},`).join("\n")}\n    },`;
    });
  if (fixed !== text) writeFileSync(source, fixed);
}
