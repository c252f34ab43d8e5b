// bench/http/prepare.mjs - from the bench questions (queries.tsv), the request
// paths for GET /check and bodies of 1,000 questions for POST /checks.
// Usage: node prepare.mjs QUERIES.TSV TENANT OUT_DIR
import { readFileSync, writeFileSync } from 'node:fs';
const [tsv, tenant, out] = process.argv.slice(2);
const lines = readFileSync(tsv, 'utf8').split('\n', 21000).filter(Boolean).map((l) => l.split('\t'));
const paths = lines.slice(0, 10000).map(([user, permission, workload, scope]) =>
  `/api/v1/tenants/${tenant}/check?` + new URLSearchParams({ user, permission, workload, scope: scope ?? '' }));
writeFileSync(`${out}/paths.txt`, paths.join('\n') + '\n');
const checks = lines.slice(10000, 11000).map(([user, permission, workload, scope]) => ({ user, permission, workload, scope: scope ?? '' }));
writeFileSync(`${out}/checks.json`, JSON.stringify({ checks }));
