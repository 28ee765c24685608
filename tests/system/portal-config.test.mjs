// The portal's configuration pages (issue 13): users, a user's page with its API keys, and the
// audit log, driven in a real browser (Debian's Chromium through playwright-core) on one SQLite
// node; plus the two server changes that came with them: the nodes summary's ETag and the
// portal assets every node publishes into the shared store for rolling upgrades.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir, eventually } from './lib/cluster.mjs';
import { openBrowser, WEB_DIR } from './lib/browser.mjs';
import { adminPassword, signIn, startPortalNode } from './lib/portal.mjs';

let node;
let sharedDir;
let password;

before(async () => {
  sharedDir = tempDir();
  node = await startPortalNode('config1', { sharedDir });
  password = adminPassword(node);
});

after(async () => {
  await node?.kill();
});

test('users, API keys shown once and revoked, and the audit log, through the UI', async (t) => {
  const session = await openBrowser('portal-config', { baseURL: node.url, log: (m) => t.diagnostic(m) });
  const { page } = session;
  try {
    await signIn(page, 'admin', password);

    // --- create a user ---
    await page.goto('/app/configuration/users');
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByRole('rowheader', { name: 'admin' }).waitFor();
    // The API's own message when it refuses (a password that is too short).
    await page.getByLabel('Username', { exact: true }).fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create user', exact: true }).click();
    const refused = await node.api('POST', '/api/users', { body: { Username: 'alice2', Password: 'short' } });
    assert.equal(refused.status, 400);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), new RegExp(refused.json.ErrorMessage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    await session.screenshot('users-create-refused');

    const alicePassword = 'alice has a long password';
    await page.getByLabel('Display name', { exact: true }).fill('Alice Example');
    await page.getByLabel('Email', { exact: true }).fill('alice@example.com');
    await page.getByLabel('Password', { exact: true }).fill(alicePassword);
    assert.equal(await page.getByLabel('Is service account', { exact: true }).isChecked(), false);
    await page.getByRole('button', { name: 'Create user', exact: true }).click();
    await page.getByRole('heading', { name: 'User alice', level: 1 }).waitFor();
    await page.getByText('User alice was created.').waitFor();
    const userId = page.url().split('/').pop();
    assert.match(userId, /^Users-\d+$/);
    await session.screenshot('user-created');
    await page.getByRole('link', { name: 'All users' }).click();
    await page.getByRole('link', { name: 'alice', exact: true }).waitFor();
    await session.screenshot('users');

    // --- sign out, sign in as the new user ---
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await signIn(page, 'alice', alicePassword);

    // --- an API key: created, shown once, used, revoked ---
    await page.goto('/app/configuration/users');
    await page.getByRole('link', { name: 'alice', exact: true }).click();
    await page.getByRole('heading', { name: 'User alice', level: 1 }).waitFor();
    await page.getByLabel('Purpose', { exact: true }).fill('CI test');
    await page.getByRole('button', { name: 'Create API key', exact: true }).click();
    const box = page.getByRole('region', { name: 'New API key' });
    await box.waitFor();
    await box.getByText('shown only once').waitFor();
    await box.getByRole('button', { name: 'Copy API key' }).waitFor();
    const key = await box.getByLabel('New API key value').inputValue();
    assert.match(key, /^API-[A-Z0-9]+$/);
    await page.getByRole('row').filter({ hasText: 'CI test' }).waitFor();
    await session.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: node.url });
    await box.getByRole('button', { name: 'Copy API key' }).click();
    await box.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    await session.screenshot('api-key-created');

    const me = await node.api('GET', '/api/users/me', { key });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.json.Username, 'alice');
    // Never again: not in the list, nor on the page once it is loaded anew.
    const keys = await node.api('GET', `/api/users/${userId}/apikeys`);
    assert.equal(keys.status, 200);
    assert.ok(!keys.text.includes(key), 'the key is not in the list of keys');
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'CI test' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'New API key' }).count(), 0);
    assert.ok(!(await page.content()).includes(key), 'the key is not on the page after a reload');

    await page.getByRole('button', { name: 'Revoke API key CI test', exact: true }).click();
    await eventually(async () => (await page.getByRole('row').filter({ hasText: 'CI test' }).count()) === 0,
      { what: 'the revoked key leaves the list' });
    assert.equal((await node.api('GET', '/api/users/me', { key })).status, 401);
    await session.screenshot('api-key-revoked');

    // --- the audit log ---
    await page.goto('/app/configuration/events');
    await page.getByRole('heading', { name: 'Events', level: 1 }).waitFor();
    const created = page.getByRole('row').filter({ hasText: 'User alice was created.' });
    await created.waitFor();
    assert.match(await created.textContent(), /admin/);
    assert.match(await created.textContent(), /Created/);
    await session.screenshot('events');

    await page.getByLabel('Category', { exact: true }).selectOption('Deleted');
    await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    await page.waitForURL(/eventCategories=Deleted/);
    await eventually(async () => (await page.getByRole('row').filter({ hasText: 'User alice was created.' }).count()) === 0,
      { what: 'the filter leaves out the Created events' });
    await page.getByRole('row').filter({ hasText: 'An API key of user alice was revoked.' }).waitFor();
    for (const cell of await page.locator('tbody tr td:nth-child(3)').allTextContents()) {
      assert.equal(cell, 'Deleted');
    }
    // The filter is the URL's: a reload keeps it.
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'An API key of user alice was revoked.' }).waitFor();
    assert.equal(await page.getByLabel('Category', { exact: true }).inputValue(), 'Deleted');
    await session.screenshot('events-filtered');

    // By the type of document: API keys (the created and the revoked key, not the user).
    await page.getByLabel('Category', { exact: true }).selectOption('');
    await page.getByLabel('Document type', { exact: true }).selectOption({ label: 'API keys' });
    await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    await page.waitForURL((u) => u.searchParams.get('documentTypes') === 'APIKeys' && !u.searchParams.has('eventCategories'));
    await page.getByRole('row').filter({ hasText: 'An API key was created for user alice.' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'An API key of user alice was revoked.' }).waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'User alice was created.' }).count(), 0);

    assert.deepEqual(session.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), []);
  } finally {
    await session.close();
  }
});

test('the nodes summary answers 304 to its own ETag', async () => {
  const first = await node.api('GET', '/api/octopusservernodes/summary');
  assert.equal(first.status, 200);
  assert.ok(first.headers.get('etag'), 'an ETag');
  assert.equal(first.headers.get('cache-control'), 'no-cache');
  assert.equal((await node.api('GET', '/api/octopusservernodes/summary',
    { headers: { 'If-None-Match': '"not-this-one"' } })).status, 200);
  // LastSeen moves each second with the heartbeats: within one second the tag holds.
  await eventually(async () => {
    const r = await node.api('GET', '/api/octopusservernodes/summary');
    const again = await node.api('GET', '/api/octopusservernodes/summary',
      { headers: { 'If-None-Match': r.headers.get('etag') } });
    return again.status === 304 && again.text === '';
  }, { what: 'a 304 for an unchanged summary' });
});

test('the node published its portal assets into the shared store and serves other builds\' from there', async () => {
  const published = readdirSync(path.join(sharedDir, 'portal-assets'));
  const own = readdirSync(path.join(WEB_DIR, 'assets'));
  for (const f of own) assert.ok(published.includes(f), `${f} is published`);
  // An asset of another build (what a node of the next release publishes) is served too.
  writeFileSync(path.join(sharedDir, 'portal-assets', 'index-otherbuild1.js'), 'console.log("other")');
  const r = await fetch(node.url + '/app/assets/index-otherbuild1.js');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await r.text(), 'console.log("other")');
  assert.equal((await fetch(node.url + '/app/assets/index-nobody.js')).status, 404);
});
