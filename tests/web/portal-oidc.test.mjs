// tests/web/portal-oidc.test.mjs - the portal's OIDC sign-in against a real
// OpenID provider: npm's oidc-provider (pinned in package-lock.json) over HTTPS
// with a certificate of a CA made for the run (urbac trusts it through the
// providers file's caFile), its development login and consent pages. The
// browser follows the authorization code flow with PKCE that urbac runs on the
// server side; the session it ends with acts as the user the ID token names,
// with what urbac's model gives that user. A replayed callback is refused.
// Environment: URBAC, URBAC_SRC, URBAC_OUT (as portal.test.mjs). Needs openssl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:https';
import { createServer as plainServer } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';
import { store, serve } from '../server/serve.mjs';

const out = path.join(process.env.URBAC_OUT || '/tmp/urbac-web', 'portal');
mkdirSync(out, { recursive: true });
let s, idp, server, browser, base;

const freePort = () => new Promise((resolve) => {
  const srv = plainServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address();
    srv.close(() => resolve(port));
  });
});

function certificates(dir) {
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=urbac test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'idp.key', '-out', 'idp.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(path.join(dir, 'idp.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'idp.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'idp.pem',
    '-days', '2', '-extfile', 'idp.ext');
}

before(async () => {
  s = store('urbac-portal-oidc-', 'portal-oidc-preshared-key-0123');
  certificates(s.dir);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const redirect = `${base}/api/v1/session/oidc/callback`;
  const https = createServer({ key: readFileSync(path.join(s.dir, 'idp.key')), cert: readFileSync(path.join(s.dir, 'idp.pem')) });
  await new Promise((r) => https.listen(0, '127.0.0.1', r));
  const issuer = `https://127.0.0.1:${https.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'urbac-portal', token_endpoint_auth_method: 'none', redirect_uris: [redirect],
      grant_types: ['authorization_code'], response_types: ['code'], application_type: 'native' }],
    // the user signs in by the name urbac's tenant knows them by
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id, preferred_username: id }) }),
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
  });
  https.on('request', provider.callback());
  idp = https;
  writeFileSync(path.join(s.dir, 'oidc.json'), JSON.stringify({ providers: [{ tenant: 'contoso', issuer, audience: 'urn:urbac',
    userClaim: 'preferred_username', caFile: path.join(s.dir, 'ca.pem'), portal: { clientId: 'urbac-portal', redirectUri: redirect } }] }));
  server = await serve(s.db, ['--oidc', path.join(s.dir, 'oidc.json')], `127.0.0.1:${port}`);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  server?.p.kill('SIGTERM');
  idp?.close();
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

test('sign in with OIDC: authorization code with PKCE, the session acts as the ID token\'s user', async () => {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true }); // the provider's test CA, for the browser
  const page = await ctx.newPage();
  const seen = [];
  page.on('request', (r) => seen.push(r.url()));
  await page.goto(`${base}/?tenant=contoso`);
  await page.getByRole('link', { name: 'Sign in with your organization (OpenID Connect)' }).click();
  await page.locator('input[name=login]').fill('erin@contoso.com');
  await page.locator('input[name=password]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.match(await page.locator('header').innerText(), /erin@contoso\.com \(can manage\)/);
  await page.screenshot({ path: path.join(out, 'oidc-signed-in.png') });
  const authorize = new URL(seen.find((u) => u.includes('/auth?')));
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorize.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  // the session is the server's: no token in the page, the API answers with the cookie
  const state = await page.evaluate(async () => ({ storage: localStorage.length + sessionStorage.length, cookie: document.cookie,
    session: await (await fetch('/api/v1/session')).json() }));
  assert.equal(state.storage, 0);
  assert.equal(state.cookie, '');
  assert.equal(state.session.kind, 'oidc');
  assert.equal(state.session.user, 'erin@contoso.com');
  assert.deepEqual(state.session.access, { contoso: 'manage' });
  // the callback, replayed, is refused: its state was used
  const callback = seen.find((u) => u.includes('/api/v1/session/oidc/callback'));
  const replay = await fetch(callback, { redirect: 'manual' });
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).error.target, 'state');
  await ctx.close();
});

test('"Sign in with your organization" shows only for a tenant with an OIDC portal client', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/?tenant=litware`);
  await page.getByLabel('API key or preshared admin key').waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('link', { name: /Sign in with your organization/ }).count(), 0);
  await page.goto(`${base}/?tenant=contoso`);
  await page.getByRole('link', { name: 'Sign in with your organization (OpenID Connect)' }).waitFor();
  await page.close();
});

test('a made-up state, or no provider for the tenant, is refused', async () => {
  let r = await fetch(`${base}/api/v1/session/oidc/callback?code=x&state=${'A'.repeat(43)}`, { redirect: 'manual' });
  assert.equal(r.status, 400);
  r = await fetch(`${base}/api/v1/session/oidc?tenant=litware`, { redirect: 'manual' });
  assert.equal(r.status, 404);
  r = await fetch(`${base}/api/v1/session/oidc?tenant=contoso`, { redirect: 'manual' });
  assert.equal(r.status, 302);
  const to = new URL(r.headers.get('location'));
  assert.equal(to.searchParams.get('client_id'), 'urbac-portal');
  assert.equal(to.searchParams.get('redirect_uri'), `${base}/api/v1/session/oidc/callback`);
});
