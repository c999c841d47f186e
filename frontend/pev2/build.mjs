// Build the offline plan viewer: PEV2 + Vue (runtime) + Bootstrap's CSS scoped to `.wb-pev2`,
// in one minified IIFE with its CSS inlined. Output: ../../workbench/static/pev2/.
//   npm ci && npm run build       (versions pinned in package.json and package-lock.json)
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";
import postcss from "postcss";
import prefixer from "postcss-prefix-selector";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "workbench", "static", "pev2");
const pkg = (name) => JSON.parse(readFileSync(join(here, "node_modules", name, "package.json")));
const versions = Object.fromEntries(["pev2", "vue", "bootstrap"].map((n) => [n, pkg(n).version]));

// Bootstrap styles the whole page (body, :root variables): scope everything to the viewer's
// container so a notebook or report around it keeps its own look. PEV2's tooltips are appended
// to <body>: they get the variables and their own rules unscoped.
const SCOPE = ".wb-pev2";
function scope(prefix, selector, prefixed) {
  if (selector.includes("tippy")) return selector;
  if (/^(:root|html|body)$/.test(selector)) return `${SCOPE}, .tippy-box`;
  if (/^(:root|html|body)\[/.test(selector)) return selector.replace(/^(:root|html|body)/, SCOPE);
  if (/^\[data-bs-theme/.test(selector)) return `${SCOPE}${selector}`;
  return prefixed;
}
const rawCss = [
  readFileSync(join(here, "node_modules/bootstrap/dist/css/bootstrap.min.css"), "utf8"),
  readFileSync(join(here, "node_modules/pev2/dist/pev2.css"), "utf8"),
].join("\n").replace(/\/\*# sourceMappingURL=.*?\*\//g, "");
const css = (await postcss([prefixer({ prefix: SCOPE, transform: scope })]).process(rawCss, {
  from: undefined,
})).css;

const banner = `/*! workbench plan viewer: pev2 ${versions.pev2} (PostgreSQL licence, Dalibo), ` +
  `vue ${versions.vue} (MIT), bootstrap ${versions.bootstrap} CSS (MIT); built by ` +
  `frontend/pev2/build.mjs. Licences of every bundled package follow at the end. */`;
const result = await esbuild.build({
  entryPoints: [join(here, "viewer.js")],
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"],
  legalComments: "eof",
  banner: { js: banner },
  write: false,
  define: {
    "process.env.NODE_ENV": '"production"',
    __VUE_OPTIONS_API__: "true",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    __WB_PEV2_CSS__: JSON.stringify(css),
    __WB_PEV2_VERSION__: JSON.stringify(versions.pev2),
  },
  logLevel: "warning",
});
const js = result.outputFiles[0].contents;
// The file is inlined in <script> elements of notebooks and reports: it must not close them.
if (/<\/?script/i.test(Buffer.from(js).toString("utf8"))) throw new Error("bundle holds <script");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "pev2-viewer.js"), js);
const sha256 = createHash("sha256").update(js).digest("hex");
const manifest = { file: "pev2-viewer.js", bytes: js.length, sha256, versions,
  licences: { pev2: "PostgreSQL", vue: "MIT", bootstrap: "MIT" } };
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`wrote ${join(out, "pev2-viewer.js")}: ${js.length} bytes, sha256 ${sha256}`);
