/* global process, console */
// Checks README.md's, the root guides' and docs/*.md's relative links and #anchors, and `docs/x.md`, *Section* references (GitHub's
// heading slugs). Usage: node scripts/check-doc-links.mjs [repo dir]; exit 1 when something is broken.
import fs from 'node:fs';
import path from 'node:path';
const root = process.argv[2] ?? '.';
const files = [
  'README.md',
  ...['ARCHITECTURE.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'examples/third-party-plugin/README.md'].filter((f) =>
    fs.existsSync(path.join(root, f)),
  ),
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => 'docs/' + f),
];
const slug = (h) =>
  h
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const anchors = (f) => {
  const s = new Set();
  const c = {};
  let inCode = false;
  for (const l of fs.readFileSync(path.join(root, f), 'utf8').split('\n')) {
    if (/^```/.test(l)) inCode = !inCode;
    if (inCode) continue;
    const m = /^#{1,6}\s+(.*)$/.exec(l);
    if (m) {
      let b = slug(m[1]);
      const n = c[b] ?? 0;
      c[b] = n + 1;
      s.add(n ? `${b}-${n}` : b);
    }
  }
  return s;
};
let bad = 0;
for (const f of files) {
  const txt = fs.readFileSync(path.join(root, f), 'utf8').replace(/```[\s\S]*?```/g, '');
  for (const m of txt.matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1];
    if (/^(https?|mailto):/.test(href)) continue;
    const [p, a] = href.split('#');
    const target = p ? path.normalize(path.join(path.dirname(f), p)) : f;
    if (!fs.existsSync(path.join(root, target))) {
      console.log(`${f}: missing file ${href}`);
      bad++;
      continue;
    }
    if (a && target.endsWith('.md') && !anchors(target).has(a)) {
      console.log(`${f}: missing anchor ${href}`);
      bad++;
    }
  }
  // backtick doc refs like `docs/x.md`, *Section*
  for (const m of txt.matchAll(/`(docs\/[\w.-]+\.md)`(?:,? \*([^*]+)\*)?/g)) {
    if (!fs.existsSync(path.join(root, m[1]))) {
      console.log(`${f}: missing doc ${m[1]}`);
      bad++;
      continue;
    }
    if (m[2]) {
      const hs = anchors(m[1]);
      if (!hs.has(slug(m[2]))) {
        console.log(`${f}: section not found ${m[1]} *${m[2]}*`);
        bad++;
      }
    }
  }
}
console.log(`${bad} problems`);
process.exitCode = bad > 0 ? 1 : 0;
