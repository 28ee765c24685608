// What the portal's browser tests share: a node on SQLite serving the built portal, the admin's
// password it prints on a new database, and signing in through the sign-in page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Node, SERVER_BIN, freePort, tempDir } from './cluster.mjs';
import { WEB_DIR } from './browser.mjs';

export function assertPortalBuilt() {
  assert.ok(existsSync(path.join(WEB_DIR, 'index.html')),
    `${WEB_DIR}/index.html is missing: \`make\` builds the portal (scripts/build-web.sh)`);
}

// A started node on a new SQLite database serving WEB_DIR; `sharedDir` defaults to a new folder.
export async function startPortalNode(name, { sharedDir = tempDir(), extraArgs = [], ...opts } = {}) {
  assertPortalBuilt();
  const masterKey = execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const node = new Node({ name, sharedDir, masterKey, port: await freePort(),
                          extraArgs: ['--web-dir', WEB_DIR, ...extraArgs], ...opts });
  await node.start();
  return node;
}

// The admin's initial password, which the node that created the database printed on a line of
// its own ("Password: ..."); one of `nodes` did.
export function adminPassword(...nodes) {
  const password = nodes.map((n) => n.output.match(/^\s*Password:\s*(\S+)\s*$/m)?.[1]).find(Boolean);
  assert.ok(password, `a new node prints the admin's password on a line of its own:\n${nodes.map((n) => n.output).join('\n')}`);
  return password;
}

// Signs in through the sign-in page (at `returnUrl`'s sign-in when given) and waits for the page
// it lands on: the heading `landing` (the dashboard's by default).
export async function signIn(page, username, password, { returnUrl, landing = 'Dashboard' } = {}) {
  await page.goto(returnUrl ? `/app/sign-in?returnUrl=${encodeURIComponent(returnUrl)}` : '/app/sign-in');
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: landing, level: 1 }).waitFor();
}
