// Bundles the component into one CommonJS file, dist/index.js, with every runtime dependency
// inside (prism uploads only dist/), and copies the icon beside it.

import { copyFileSync, mkdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [path.join(root, "src", "index.ts")],
  outfile: path.join(dist, "index.js"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  keepNames: true,
  legalComments: "external",
  define: {
    "process.env.NODE_ENV": '"production"',
    // Where builders read documentation.md once it is hosted: the component's documentation link.
    "process.env.IMAP_DOCUMENTATION_URL": JSON.stringify(process.env.IMAP_DOCUMENTATION_URL ?? ""),
    // ES-module-only dependencies (email-reply-parser) read import.meta.url, which CommonJS lacks.
    "import.meta.url": "__importMetaUrl",
  },
  banner: { js: 'var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});
copyFileSync(path.join(root, "assets", "icon.png"), path.join(dist, "icon.png"));

const size = statSync(path.join(dist, "index.js")).size;
console.log(`dist/index.js: ${(size / 1024 / 1024).toFixed(2)} MB`);
