// Fails the build when the JavaScript a first visit loads (the entry script and the chunks
// it preloads, from dist/index.html) is above the budget, gzipped. Routes load lazily.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 250 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = new Set();
for (const m of html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g)) scripts.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)) scripts.add(m[1]);
if (scripts.size === 0) {
  console.error("check-budget: no module script in dist/index.html");
  process.exit(1);
}
let total = 0;
for (const src of scripts) {
  const size = gzipSync(readFileSync(join(dist, src.replace(/^\//, "")))).length;
  total += size;
  console.log(`  ${(size / 1024).toFixed(1).padStart(7)} KB gz  ${src}`);
}
const verdict = total > BUDGET ? "OVER" : "within";
console.log(`initial JS ${(total / 1024).toFixed(1)} KB gzipped, ${verdict} the ${BUDGET / 1024} KB budget`);
if (total > BUDGET) process.exit(1);
