// The web portal (issue 13, part 2): a node serves the single-page app at /app with the caching
// and compression rules, and the app's sign-in page works in a real browser (Debian's Chromium
// through playwright-core). Signing in is checked once the login API exists (it prints the
// admin's password on a new database); until then that step is skipped, saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, ADMIN_KEY } from './lib/cluster.mjs';
import { openBrowser, WEB_DIR } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';

let node;
let session;

before(async () => {
  node = await startPortalNode('portal1');
});

after(async () => {
  await session?.close();
  await node?.kill();
});

// The hashed script index.html loads, e.g. "/app/assets/index-abc.js".
function scriptOf(html) {
  const m = html.match(/<script[^>]+src="([^"]+\.js)"/);
  assert.ok(m, `no script in index.html: ${html}`);
  return m[1];
}

test('the node serves the app: root redirect, fallback, cache headers, pre-compressed assets', async () => {
  const root = await fetch(node.url + '/', { redirect: 'manual' });
  assert.equal(root.status, 302);
  assert.equal(root.headers.get('location'), '/app');

  // Octopus's root document names the portal.
  assert.equal((await (await fetch(node.url + '/api')).json()).Links.Web, '/app');

  const index = await fetch(node.url + '/app');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  assert.equal(html, readFileSync(path.join(WEB_DIR, 'index.html'), 'utf8'));

  // A client-side route loads the same app.
  const deep = await fetch(node.url + '/app/configuration/nodes');
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), html);

  const script = scriptOf(html);
  const br = await fetch(node.url + script, { headers: { 'Accept-Encoding': 'br' } });
  assert.equal(br.status, 200);
  assert.equal(br.headers.get('content-encoding'), 'br');
  assert.equal(br.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(br.headers.get('vary'), 'Accept-Encoding');
  const plain = await fetch(node.url + script, { headers: { 'Accept-Encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(Number(plain.headers.get('content-length')), (await plain.arrayBuffer()).byteLength);

  const missing = await fetch(node.url + '/app/assets/index-missing.js');
  assert.equal(missing.status, 404);
  const escape = await fetch(node.url + '/app/..%2f..%2fetc%2fpasswd');
  assert.ok(escape.status === 404 || (await escape.text()) === html, 'no file outside the portal');
});

test('sign-in page: accessible names, keyboard order, and the API\'s message on failure', async (t) => {
  session = await openBrowser('portal', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  const { page } = session;
  await page.goto('/app');
  await page.waitForURL(/\/app\/sign-in/);
  const username = page.getByLabel('Username', { exact: true });
  const password = page.getByLabel('Password', { exact: true });
  const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
  await username.waitFor();
  assert.equal(await password.getAttribute('type'), 'password');
  await session.screenshot('sign-in');

  // Keyboard: the username has focus, Tab goes to the password, then to the button.
  await eventually(() => username.evaluate((el) => el === document.activeElement), { what: 'username focused' });
  await page.keyboard.type('no-such-user');
  await page.keyboard.press('Tab');
  assert.ok(await password.evaluate((el) => el === document.activeElement), 'Tab reaches Password');
  await page.keyboard.type('wrong password');
  await page.keyboard.press('Tab');
  assert.ok(await signIn.evaluate((el) => el === document.activeElement), 'Tab reaches Sign in');

  // What the API itself answers to these credentials is what the page must show.
  const api = await fetch(node.url + '/api/users/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Username: 'no-such-user', Password: 'wrong password', RememberMe: false }),
  });
  assert.ok(api.status >= 400, `a wrong password is refused (got ${api.status})`);
  const { ErrorMessage: expected } = await api.json();
  assert.ok(expected, 'the API answers an ErrorMessage');

  await page.keyboard.press('Enter');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), expected);
  await session.screenshot('sign-in-failed');
  assert.deepEqual(session.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), []);
});

// The pages themselves, before and beside sign-in: a browser whose requests carry the admin's
// API key is a signed-in caller to the API (keys keep working beside cookies).
test('with an API key: navigation by keyboard, the dashboard, and the nodes page drains a node', async (t) => {
  const keyed = await openBrowser('portal-apikey', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  try {
    const { page } = keyed;
    await keyed.context.setExtraHTTPHeaders({ 'X-Octopus-ApiKey': ADMIN_KEY });
    const ok = async (method, p, body) => {
      const r = await node.api(method, p, { body });
      assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
      return r.json;
    };
    await ok('POST', '/api/environments', { Name: 'Production' });
    const newProject = async (Name) => ok('POST', '/api/projects', {
      Name, ProjectGroupId: (await ok('GET', '/api/projectgroups')).Items[0].Id,
      LifecycleId: (await ok('GET', '/api/lifecycles')).Items[0].Id,
    });
    await newProject('Web site');
    await page.goto('/app');
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    await page.getByRole('rowheader', { name: 'Web site' }).waitFor();
    await page.getByRole('columnheader', { name: 'Production' }).waitFor();
    // Live: a project created while the page is open appears without a reload.
    await newProject('Billing');
    await page.getByRole('rowheader', { name: 'Billing' }).waitFor({ timeout: 5000 });
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const area of ['Dashboard', 'Projects', 'Tasks', 'Infrastructure', 'Library', 'Configuration']) {
      await nav.getByRole('link', { name: area, exact: true }).waitFor();
    }
    assert.equal(await nav.getByRole('link', { name: 'Dashboard', exact: true }).getAttribute('aria-current'), 'page');
    await keyed.screenshot('dashboard');

    // Keyboard only: focus the Configuration link, follow it, then the Nodes link.
    await nav.getByRole('link', { name: 'Configuration', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Configuration', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Nodes', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'portal1' });
    await row.getByText('Running', { exact: true }).waitFor();
    await keyed.screenshot('nodes');

    // The drain switch: the node's ping turns 418 and the row says Drained; then back.
    const drain = row.getByRole('switch', { name: 'Drain portal1' });
    assert.equal(await drain.getAttribute('aria-checked'), 'false');
    await drain.focus();
    await page.keyboard.press('Space');
    await row.getByText('Drained', { exact: true }).waitFor();
    assert.equal(await drain.getAttribute('aria-checked'), 'true');
    // The ping answers from memory, refreshed by the node's next heartbeat.
    const ping = async () => (await fetch(node.url + '/api/octopusservernodes/ping')).status;
    await eventually(async () => (await ping()) === 418, { what: 'ping 418 on a drained node' });
    await keyed.screenshot('nodes-drained');
    await drain.click();
    await row.getByText('Running', { exact: true }).waitFor();
    await eventually(async () => (await ping()) === 200, { what: 'ping 200 after undrain' });

    // The task cap, changed in place; a value the API refuses shows the API's message and
    // changes nothing.
    const nodeCap = async () => (await node.get('/api/octopusservernodes')).json.Items[0].MaxConcurrentTasks;
    const cap = row.getByLabel('Task cap of portal1', { exact: true });
    const setCap = row.getByRole('button', { name: 'Set the task cap of portal1', exact: true });
    assert.equal(await setCap.isDisabled(), true, 'nothing to set yet');
    await cap.fill('7');
    await setCap.click();
    await eventually(async () => (await nodeCap()) === 7, { what: 'the task cap set to 7' });
    await eventually(async () => (await cap.inputValue()) === '7' && (await setCap.isDisabled()), { what: 'the field showing the stored cap' });
    await cap.fill('5000');
    await setCap.click();
    const refused = await node.api('PUT', `/api/octopusservernodes/${(await node.get('/api/octopusservernodes')).json.Items[0].Id}`,
      { body: { MaxConcurrentTasks: 5000 } });
    assert.equal(refused.status, 400);
    await page.getByRole('alert').filter({ hasText: refused.json.ErrorMessage }).waitFor();
    assert.equal(await nodeCap(), 7, 'a refused cap changes nothing');

    // A reload on a client-side route comes back to the same page (index.html fallback).
    await page.reload();
    await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
    assert.deepEqual(keyed.failedResponses.filter((r) => !r.startsWith('400 ')), []);
    assert.deepEqual(keyed.consoleErrors.filter((e) => !/status of 400/.test(e)), []);
  } finally {
    await keyed.close();
  }
});

test('signing in as admin shows the dashboard and the nodes page', async (t) => {
  session ??= await openBrowser('portal', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  const { page } = session;
  await signIn(page, 'admin', adminPassword(node));
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const area of ['Dashboard', 'Projects', 'Tasks', 'Infrastructure', 'Library', 'Configuration']) {
    await nav.getByRole('link', { name: area, exact: true }).waitFor();
  }
  await session.screenshot('dashboard');

  await nav.getByRole('link', { name: 'Configuration', exact: true }).click();
  await page.getByRole('link', { name: 'Nodes', exact: true }).click();
  await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();
  const row = page.getByRole('row').filter({ hasText: 'portal1' });
  await row.getByText('Running').waitFor();
  await session.screenshot('nodes');

  // A reload on a client-side route stays signed in (the session is the cookie).
  await page.reload();
  await page.getByRole('heading', { name: 'Nodes', level: 1 }).waitFor();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await session.screenshot('signed-out');
});
