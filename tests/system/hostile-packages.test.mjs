// Hostile packages (issue 9, items 8 and 10) against a real node over HTTP, uploaded as curl
// would: archives cut off halfway or with entries that escape the extraction folder, nuspecs
// with DOCTYPE entities, ids and versions too long for the file system, and a store that fails.
// After each refusal the node must still answer ping, keep its RSS within a bound, leave no
// temporary file in the packages store and write no package row; no response may show the
// server's storage path.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ADMIN_KEY, startCluster, psql } from './lib/cluster.mjs';
import { multipart, tar, zip } from './lib/archives.mjs';

// Refused uploads are small: the node's RSS may not grow by more than this over the whole run.
const RSS_GROWTH_BOUND_KB = 64 * 1024;

const nuspec = (id, version, { doctype = '' } = {}) =>
  `<?xml version="1.0" encoding="utf-8"?>${doctype}\n<package xmlns="http://schemas.microsoft.com/packaging/2010/07/nuspec.xsd">` +
  `<metadata><id>${id}</id><version>${version}</version><authors>x</authors>` +
  `<description>${doctype ? '&x;' : 'd'}</description></metadata></package>`;
const nupkg = (spec, extra = []) => zip([['[Content_Types].xml', '<Types/>'], ['Pkg.nuspec', spec], ['content/a.txt', 'a'], ...extra]);

async function send(url, method, headers, filename, data, field) {
  const { body, contentType } = multipart(filename, data, field);
  const r = await fetch(url, { method, body, headers: { ...headers, 'Content-Type': contentType } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, text, json };
}

describe('hostile packages', async () => {
  const cluster = await startCluster(1, { prefix: 'hostile' });
  const [node] = cluster.nodes;
  after(() => cluster.stop());
  const storeRoot = path.join(cluster.sharedDir, 'packages');
  const spaceDir = path.join(storeRoot, 'spaces-1');
  const upload = (filename, data) => send(`${node.url}/api/Spaces-1/packages/raw`, 'POST',
    { 'X-Octopus-ApiKey': ADMIN_KEY }, filename, data, 'fileToUpload');
  // nuget.exe's push: PUT, the key in X-NuGet-ApiKey, every file called "package".
  const push = (data) => send(`${node.url}/nuget/packages`, 'PUT',
    { 'X-NuGet-ApiKey': ADMIN_KEY }, 'package', data, 'package');

  const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${node.pid}/status`, 'utf8'))[1]);
  const files = () => (existsSync(spaceDir) ? readdirSync(spaceDir) : []);
  const rows = () => Number(psql(cluster.database, 'SELECT count(*) FROM packages'));
  const listed = async () => (await node.get('/api/Spaces-1/packages?take=1000')).json.TotalResults;
  const rssBefore = rssKb();

  // What every refusal must leave behind: a node that answers, nothing stored, nothing leaked.
  async function assertNothingChanged(what, expected) {
    const ping = await fetch(`${node.url}/api/octopusservernodes/ping`);
    assert.equal(ping.status, 200, `${what}: ping`);
    assert.deepEqual(files().filter((f) => f.startsWith('.tmp')), [], `${what}: temporary files left`);
    assert.deepEqual(files().filter((f) => !expected.files.includes(f)), [], `${what}: package files left`);
    assert.equal(rows(), expected.rows, `${what}: package rows`);
    assert.equal(await listed(), expected.rows, `${what}: package list`);
    const growth = rssKb() - rssBefore;
    assert.ok(growth < RSS_GROWTH_BOUND_KB, `${what}: RSS grew by ${growth} kB`);
  }

  test('archives cut off or with entries outside the folder are 400s naming the entry, and store nothing', async () => {
    const whole = zip([['app/a.txt', 'x'.repeat(20000)], ['app/b.txt', 'b']]);
    const cut = (buf) => buf.subarray(0, buf.length >> 1);
    const cases = [
      ['Cut.1.0.0.zip', cut(whole), /cut off or not a zip/],
      ['Dotdot.1.0.0.zip', zip([['ok.txt', 'ok'], ['../x', 'evil']]), /entry '\.\.\/x' has a '\.\.' segment/],
      ['Abs.1.0.0.zip', zip([['/abs', 'evil']]), /entry '\/abs' is an absolute path/],
      ['Deep.1.0.0.zip', zip([['a/../../b', 'evil']]), /entry 'a\/\.\.\/\.\.\/b'/],
      ['Back.1.0.0.zip', zip([['..\\x', 'evil']]), /has a '\.\.' segment/],
      ['Nul.1.0.0.zip', zip([['ok\0/../../x', 'evil']]), /contains a NUL byte/],
      ['Dotdot.1.0.0.tar.gz', zlib.gzipSync(tar([['ok.txt', 'ok'], ['../x', 'evil']])), /entry '\.\.\/x'/],
      ['Abs.1.0.0.tar.gz', zlib.gzipSync(tar([['/abs', 'evil']])), /entry '\/abs' is an absolute path/],
      ['Deep.1.0.0.tgz', zlib.gzipSync(tar([['a/../../b', 'evil']])), /entry 'a\/\.\.\/\.\.\/b'/],
      ['Nul.1.0.0.tar.gz', zlib.gzipSync(tar([['ok\0/../../x', 'evil']])), /NUL byte/],
      ['Cut.1.0.0.tar.gz', cut(zlib.gzipSync(tar([['a', 'y'.repeat(100000)], ['b', 'z'.repeat(100000)]]))), /not a readable \.tar\.gz archive/],
      // Only the gzip trailer (CRC and length) is missing: the tar itself inflates whole.
      ['Trailer.1.0.0.tar.gz', zlib.gzipSync(tar([['a', 'y']])).subarray(0, -4), /not a readable \.tar\.gz archive/],
    ];
    for (const [name, data, says] of cases) {
      const r = await upload(name, data);
      assert.equal(r.status, 400, `${name}: ${r.text}`);
      assert.match(r.json.ErrorMessage, says, name);
      assert.ok(!r.text.includes(cluster.sharedDir), `${name} shows the storage path: ${r.text}`);
      await assertNothingChanged(name, { files: [], rows: 0 });
    }
  });

  test('nuget pushes with a DOCTYPE entity or an escaping entry are 400s and store nothing', async () => {
    const cases = [
      [nupkg(nuspec('Xxe.Pkg', '1.0.0', { doctype: '<!DOCTYPE package [<!ENTITY x SYSTEM "file:///etc/passwd">]>' })),
        /document type declaration/],
      [nupkg(nuspec('Laughs.Pkg', '1.0.0', { doctype: '<!DOCTYPE package [<!ENTITY y "yy"><!ENTITY x "&y;&y;&y;&y;">]>' })),
        /document type declaration/],
      [nupkg(nuspec('Escape.Pkg', '1.0.0'), [['content/../../evil.ps1', 'evil']]), /entry 'content\/\.\.\/\.\.\/evil\.ps1'/],
      [nupkg(nuspec('Cut.Pkg', '1.0.0')).subarray(0, 200), /not a readable \.nupkg archive/],
    ];
    for (const [data, says] of cases) {
      const r = await push(data);
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.ErrorMessage, says);
      assert.ok(!r.text.includes('root:'), 'the entity was expanded');
      await assertNothingChanged(String(says), { files: [], rows: 0 });
    }
  });

  test('an id and version too long for the file system are a 400 naming the limit, without the storage path', async () => {
    const id = 'A'.repeat(100);
    const version = '1.0.0-' + 'b'.repeat(140);  // "<id>.<version>.zip": 251 characters
    const uploaded = await upload(`${id}.${version}.zip`, zip([['a.txt', 'a']]));
    const pushed = await push(nupkg(nuspec(id, version)));
    for (const r of [uploaded, pushed]) {
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.ErrorMessage, /the limit is 200/);
      assert.ok(!r.text.includes(cluster.sharedDir), r.text);
      assert.ok(!r.text.includes(storeRoot), r.text);
    }
    await assertNothingChanged('over-long name', { files: [], rows: 0 });
  });

  test('failures of the store are 500s that never show the storage path', async () => {
    // The space's package directory is a file: every write into it fails.
    rmSync(spaceDir, { recursive: true, force: true });
    writeFileSync(spaceDir, 'not a directory');
    try {
      const results = [
        await upload('Io.1.0.0.zip', zip([['a.txt', 'a']])),
        await upload('Io.1.0.0.tar.gz', zlib.gzipSync(tar([['a.txt', 'a']]))),
        await push(nupkg(nuspec('Io.Pkg', '1.0.0'))),
      ];
      for (const r of results) {
        assert.equal(r.status, 500, r.text);
        const reference = /reference ([0-9a-f]{8})/.exec(r.json.ErrorMessage)?.[1];
        assert.ok(reference, r.text);
        assert.ok(!r.text.includes(cluster.sharedDir), r.text);
        assert.ok(!r.text.includes(storeRoot), r.text);
        // The node's log has, under that reference, the detail the client was not shown.
        const line = node.output.split('\n').find((l) => l.includes(`reference ${reference}`));
        assert.ok(line && line.includes(spaceDir), `no log line for ${reference}: ${line}`);
      }
      assert.equal(rows(), 0);
    } finally {
      rmSync(spaceDir, { force: true });
      mkdirSync(spaceDir, { recursive: true });
    }
    // A package whose file vanished from the store: the download's 500 does not name it either.
    const ok = await upload('Vanish.1.0.0.zip', zip([['a.txt', 'a']]));
    assert.equal(ok.status, 201, ok.text);
    for (const f of files()) rmSync(path.join(spaceDir, f));
    const gone = await fetch(`${node.url}/api/Spaces-1/packages/packages-Vanish.1.0.0/raw`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY } });
    const text = await gone.text();
    assert.equal(gone.status, 500);
    assert.ok(!text.includes(cluster.sharedDir), text);
    const del = await node.api('DELETE', '/api/Spaces-1/packages/packages-Vanish.1.0.0');
    assert.equal(del.status, 204);
    await assertNothingChanged('store failures', { files: [], rows: 0 });
  });
});
