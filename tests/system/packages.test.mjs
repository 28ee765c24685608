// The built-in package repository (issue 4) on two nodes sharing PostgreSQL and one storage
// directory: Octopus clients (api-client, octopackjs), Debian's nuget.exe, the upload race between
// nodes, resumable downloads, the size limit, bad input and aborted uploads.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ADMIN_KEY, startCluster, tempDir, eventually, runProcess } from './lib/cluster.mjs';
import { multipart, zip } from './lib/archives.mjs';

const require = createRequire(import.meta.url);
const { Client, PackageRepository, OverwriteMode } = require('@octopusdeploy/api-client');
const octopack = require('@octopusdeploy/octopackjs');

const MAX = 8 * 1024 * 1024; // the cluster's --max-package-size
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// A real zip (stored, one entry) holding `content`, so the server's archive check passes.
const zipOf = (name, content) => zip([[name, content]]);

async function upload(node, filename, data, query = '', space = 'Spaces-1') {
  const { body, contentType } = multipart(filename, data);
  const r = await fetch(`${node.url}/api/${space}/packages/raw${query}`, {
    method: 'POST', body, headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType },
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

async function download(node, id, headers = {}) {
  const r = await fetch(`${node.url}/api/Spaces-1/packages/${id}/raw`, { headers: { 'X-Octopus-ApiKey': ADMIN_KEY, ...headers } });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

describe('package repository on two nodes', async () => {
  const cluster = await startCluster(2, { prefix: 'pkg', extraArgs: ['--max-package-size', String(MAX)] });
  const [a, b] = cluster.nodes;
  const spaceDir = path.join(cluster.sharedDir, 'packages', 'spaces-1');
  const work = tempDir('cuttle-pkg-');
  after(async () => { await cluster.stop(); rmSync(work, { recursive: true, force: true }); });

  // Files of one package id in the shared directory, and temporary files of any upload.
  const filesOf = (id) => (existsSync(spaceDir) ? readdirSync(spaceDir) : []).filter((f) => f.startsWith(id + '.'));
  const tempFiles = () => (existsSync(spaceDir) ? readdirSync(spaceDir) : []).filter((f) => f.startsWith('.tmp'));

  test('a package pushed with api-client through node A is listed and downloaded byte-identical through node B', async () => {
    const content = zipOf('app/readme.txt', 'x'.repeat(300_000) + Math.random());
    const file = path.join(work, 'HelloApp.1.0.0.zip');
    writeFileSync(file, content);
    const clientA = await Client.create({ instanceURL: a.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    await new PackageRepository(clientA, 'Default').push([file]);

    const clientB = await Client.create({ instanceURL: b.url, apiKey: ADMIN_KEY, userAgentApp: 'cuttle-test' });
    const list = await new PackageRepository(clientB, 'Default').list({ filter: 'Hello' });
    assert.equal(list.TotalResults, 1);
    const got = await new PackageRepository(clientB, 'Default').get(list.Items[0].Id);
    assert.equal(got.PackageId, 'HelloApp');
    assert.equal(got.Version, '1.0.0');
    assert.equal(got.PackageSizeBytes, content.length);
    assert.equal(got.Hash, createHash('sha1').update(content).digest('hex'));

    const d = await download(b, 'packages-HelloApp.1.0.0');
    assert.equal(d.status, 200);
    assert.equal(d.headers.get('octopus-node'), 'pkg2');
    assert.equal(d.headers.get('content-length'), String(content.length));
    assert.equal(d.headers.get('etag'), `"${sha256(content)}"`);
    assert.ok(d.body.equals(content));

    // A second push without overwrite is refused with Octopus's 409; with it, it replaces.
    await assert.rejects(new PackageRepository(clientB, 'Default').push([file]), /already exists/);
    const changed = zipOf('app/readme.txt', 'changed');
    writeFileSync(file, changed);
    await new PackageRepository(clientB, 'Default').push([file], OverwriteMode.OverwriteExisting);
    const after2 = await download(a, 'packages-HelloApp.1.0.0');
    assert.ok(after2.body.equals(changed));
    // The replaced file is deleted once the upload has answered.
    await eventually(() => filesOf('HelloApp').length === 1, { what: 'the replaced file to be deleted' });
  });

  test('octopackjs push succeeds, and a second push without replace is refused', async () => {
    const content = zipOf('index.js', 'console.log(1)');
    const push = (opts) => new Promise((resolve) => octopack.push(content, {
      host: a.url, apikey: ADMIN_KEY, name: 'Octo.Web.2.1.0.zip', ...opts,
    }, (err, body) => resolve({ err, body })));
    const first = await push({ spaceId: 'Spaces-1' });
    assert.equal(first.err, null, JSON.stringify(first.err?.body));
    assert.equal(first.body.Title, 'Octo.Web');
    assert.equal(first.body.Version, '2.1.0');
    assert.equal(first.body.PackageSizeBytes, content.length);
    const second = await push({});  // unscoped /api/packages/raw: the default space
    assert.equal(second.err?.statusCode, 409);
    assert.match(second.err.body.ErrorMessage, /already exists/);
    assert.ok(Array.isArray(second.err.body.Errors));
    const replaced = await push({ replace: true });
    assert.equal(replaced.err, null);
  });

  test('feeds list the built-in feed first, and its versions come newest first', async () => {
    for (const v of ['1.0.0', '1.10.0', '1.2.0', '2.0.0-beta.1', '1.2.0.5']) {
      assert.equal((await upload(a, `Multi.Ver.${v}.tar`, Buffer.alloc(1024))).status, 201, v);
    }
    const feeds = await b.get('/api/Spaces-1/feeds');
    assert.equal(feeds.status, 200);
    assert.equal(feeds.json.Items[0].Id, 'feeds-builtin');
    assert.equal(feeds.json.Items[0].FeedType, 'BuiltIn');
    const versions = await b.get('/api/Spaces-1/feeds/feeds-builtin/packages/versions?packageId=Multi.Ver');
    assert.deepEqual(versions.json.Items.map((i) => i.Version), ['2.0.0-beta.1', '1.10.0', '1.2.0.5', '1.2.0', '1.0.0']);
    const byId = await b.get('/api/Spaces-1/packages?nuGetPackageId=multi.ver&take=2');
    assert.equal(byId.json.TotalResults, 5);
    assert.deepEqual(byId.json.Items.map((i) => i.Version), ['2.0.0-beta.1', '1.10.0']);
    const latest = await b.get('/api/packages?latest=true');
    assert.equal(latest.json.Items.filter((i) => i.PackageId === 'Multi.Ver').length, 1);
    // Delete through one node; gone on the other, file included.
    assert.equal((await a.api('DELETE', '/api/Spaces-1/packages/packages-Multi.Ver.1.0.0')).status, 204);
    assert.equal((await b.get('/api/Spaces-1/packages/packages-Multi.Ver.1.0.0')).status, 404);
    assert.equal(filesOf('Multi.Ver').length, 4);
  });

  test('downloads resume with Range requests', async () => {
    const content = Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 13) & 0xff));
    const tar = Buffer.concat([Buffer.alloc(512), content]); // a zero header block reads as an empty tar
    assert.equal((await upload(a, 'Resume.Me.1.0.0.tar', tar)).status, 201);
    const etag = `"${sha256(tar)}"`;
    const cut = 1_000_000;
    const first = await download(b, 'packages-Resume.Me.1.0.0', { Range: `bytes=0-${cut - 1}` });
    assert.equal(first.status, 206);
    assert.equal(first.headers.get('content-range'), `bytes 0-${cut - 1}/${tar.length}`);
    assert.equal(first.body.length, cut);
    const rest = await download(a, 'packages-Resume.Me.1.0.0', { Range: `bytes=${cut}-`, 'If-Range': etag });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers.get('content-length'), String(tar.length - cut));
    assert.ok(Buffer.concat([first.body, rest.body]).equals(tar));
    const suffix = await download(a, 'packages-Resume.Me.1.0.0', { Range: 'bytes=-100' });
    assert.ok(suffix.body.equals(tar.subarray(tar.length - 100)));
    // A changed file (another ETag) restarts from zero; an impossible range is 416.
    const stale = await download(a, 'packages-Resume.Me.1.0.0', { Range: 'bytes=5-', 'If-Range': '"old"' });
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, tar.length);
    const beyond = await download(a, 'packages-Resume.Me.1.0.0', { Range: `bytes=${tar.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${tar.length}`);
  });

  test('the upload race between two nodes: exactly one stored, 20 times, file always matching its hash', async () => {
    const inconsistencies = [];
    for (let i = 0; i < 20; i++) {
      const version = `1.0.${i}`;
      const mode = i % 4 === 3 ? '?overwriteMode=IgnoreIfExists' : '';
      const bodies = [0, 1].map((n) => zipOf('f.bin', `${n}:`.repeat(200_000) + i));
      const results = await Promise.all([upload(a, `Race.Pkg.${version}.zip`, bodies[0], mode),
        upload(b, `Race.Pkg.${version}.zip`, bodies[1], mode)]);
      const statuses = results.map((r) => r.status).sort();
      const expected = mode ? [200, 201] : [201, 409];
      const bad = (why) => inconsistencies.push(`${version}: ${why}`);
      if (JSON.stringify(statuses) !== JSON.stringify(expected)) { bad(`statuses ${statuses} ${results.map((r) => r.text)}`); continue; }
      const loser = results.find((r) => r.status !== 201);
      if (!mode && !/already exists/.test(loser.json?.ErrorMessage)) bad(`409 body ${loser.text}`);
      const d = await download(i % 2 ? a : b, `packages-Race.Pkg.${version}`);
      const winner = results.findIndex((r) => r.status === 201);
      const meta = (await a.get(`/api/Spaces-1/packages/packages-Race.Pkg.${version}`)).json;
      if (!d.body.equals(bodies[winner])) bad('the stored bytes are not the winner\'s');
      if (meta.Sha256 !== sha256(d.body) || meta.PackageSizeBytes !== d.body.length) bad('hash or size mismatch');
      const files = readdirSync(spaceDir).filter((f) => f.startsWith(`Race.Pkg.${version}_`));
      if (files.length !== 1) bad(`${files.length} files`);
    }
    assert.deepEqual(inconsistencies, []);
    assert.deepEqual(tempFiles(), []);
  });

  test('a package over the maximum size is 413 and leaves nothing behind', async () => {
    // Three times the limit: the client is still sending when the 413 is written, so the node must
    // drain the rest rather than reset the connection under the client's feet.
    const big = Buffer.alloc(MAX * 3);
    const r = await upload(a, 'Too.Big.1.0.0.zip', big);
    assert.equal(r.status, 413);
    assert.match(r.json.ErrorMessage, /maximum package size/);
    // Chunked (no Content-Length): refused while streaming.
    const { body, contentType } = multipart('Too.Big.1.0.0.zip', big);
    const chunked = await fetch(`${b.url}/api/Spaces-1/packages/raw`, {
      method: 'POST', duplex: 'half', headers: { 'X-Octopus-ApiKey': ADMIN_KEY, 'Content-Type': contentType },
      body: new ReadableStream({ start(c) { for (let o = 0; o < body.length; o += 65536) c.enqueue(body.subarray(o, o + 65536)); c.close(); } }),
    }).then(async (res) => ({ status: res.status, json: await res.json() }), (e) => ({ error: e }));
    if (!chunked.error) assert.equal(chunked.status, 413);
    await eventually(() => tempFiles().length === 0 && filesOf('Too.Big').length === 0, { what: 'no files' });
    assert.equal((await a.get('/api/Spaces-1/packages?nuGetPackageId=Too.Big')).json.TotalResults, 0);
  });

  test('an aborted upload leaves no file and no row', async () => {
    const { body, contentType } = multipart('Cut.Short.1.0.0.zip', Buffer.alloc(4 * 1024 * 1024, 7));
    const logged = () => a.output.split('\n').filter((l) => l.includes('POST /api/Spaces-1/packages/raw')).length;
    const before = logged();
    await new Promise((resolve, reject) => {
      const s = net.connect(a.port, '127.0.0.1', () => {
        s.write(`POST /api/Spaces-1/packages/raw HTTP/1.1\r\nHost: x\r\nX-Octopus-ApiKey: ${ADMIN_KEY}\r\n` +
          `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`);
        s.write(body.subarray(0, 1024 * 1024), () => { s.destroy(); resolve(); });
      });
      s.on('error', reject);
    });
    // The node sees the reset on its own schedule; the request is logged once its handler is done.
    await eventually(() => logged() > before, { what: 'the aborted request to finish' });
    assert.deepEqual(tempFiles(), []);
    assert.deepEqual(filesOf('Cut.Short'), []);
    assert.equal((await b.get('/api/Spaces-1/packages?nuGetPackageId=Cut.Short')).json.TotalResults, 0);
  });

  test('bad file names and unreadable archives are 400 naming the problem; nothing escapes the root', async () => {
    const zip = zipOf('a', 'b');
    const cases = [
      ['../../escape.1.0.0.zip', /contains a path/],
      ['..%2Fescape.1.0.0.zip', /contains '\.\.'/],
      ['bad\u0001name.1.0.0.zip', /control characters/],
      ['NoVersion.zip', /has no version/],
      ['App.1.2.3.4.5.zip', /no parseable version/],
      ['App.1.0.0.exe', /unsupported extension/],
    ];
    for (const [name, says] of cases) {
      const r = await upload(a, name, zip);
      assert.equal(r.status, 400, name);
      assert.match(r.json.ErrorMessage, says, name);
    }
    const corrupt = await upload(a, 'Corrupt.1.0.0.tar.gz', Buffer.from('definitely not gzip'));
    assert.equal(corrupt.status, 400);
    assert.match(corrupt.json.ErrorMessage, /not a readable \.tar\.gz/);
    const noNuspec = await upload(a, 'package', zip);
    assert.equal(noNuspec.status, 400);
    assert.match(noNuspec.json.ErrorMessage, /nuspec/);
    assert.ok(!existsSync(path.join(cluster.sharedDir, 'escape.1.0.0.zip')));
    assert.ok(!existsSync(path.join(cluster.sharedDir, 'packages', 'escape.1.0.0.zip')));
    assert.deepEqual(tempFiles(), []);
    assert.equal((await a.api('POST', '/api/Spaces-1/packages/raw', { key: null })).status, 401);
  });

  describe("Debian's nuget.exe 2.8.7", async () => {
    const home = path.join(work, 'home');
    const pkgDir = path.join(work, 'nuget');
    before(async () => {
      mkdirSync(path.join(pkgDir, 'content'), { recursive: true });
      writeFileSync(path.join(pkgDir, 'content', 'hello.txt'), 'hello from nuget');
      writeFileSync(path.join(pkgDir, 'Hello.Lib.nuspec'), `<?xml version="1.0"?>
<package><metadata><id>Hello.Lib</id><version>1.0.5</version><title>Hello Lib</title><authors>tester</authors>
<description>A test library</description><releaseNotes>First &amp; best</releaseNotes></metadata>
<files><file src="content/hello.txt" target="content/hello.txt"/></files></package>`);
      const packed = await nuget(['pack', 'Hello.Lib.nuspec'], pkgDir);
      assert.equal(packed.status, 0, packed.output);
    });
    // nuget.exe keeps state under $HOME; the list command needs a terminal width (a pty).
    // Asynchronous (runProcess): mono takes seconds per run, and a blocked event loop would
    // leave this process's idle connections to the nodes open past their idle timeout.
    async function nuget(args, cwd = work, { pty = false } = {}) {
      // Mono reads the terminal width through terminfo: a "dumb" terminal has none.
      const env = { ...process.env, HOME: home, TERM: 'xterm' };
      const cmd = pty
        ? await runProcess('script', ['-qec', `stty cols 200; nuget ${args.map((x) => `'${x}'`).join(' ')}`, '/dev/null'], { cwd, env, timeoutMs: 120000 })
        : await runProcess('nuget', [...args, '-NonInteractive'], { cwd, env, timeoutMs: 120000 });
      return { status: cmd.code, output: `${cmd.stdout}${cmd.stderr}` };
    }
    const source = () => `${a.url}/nuget/packages`;

    test('push (a bad key is 403, a duplicate 409), list and install', async () => {
      // Mono's nuget.exe mangles absolute paths: run it beside the file.
      const file = 'Hello.Lib.1.0.5.nupkg';
      const bad = await nuget(['push', file, '-ApiKey', 'API-NOTAVALIDKEY0000000000000', '-Source', source()], pkgDir);
      assert.notEqual(bad.status, 0);
      assert.match(bad.output, /403|Forbidden/);
      const pushed = await nuget(['push', file, '-ApiKey', ADMIN_KEY, '-Source', source()], pkgDir);
      assert.equal(pushed.status, 0, pushed.output);
      assert.match(pushed.output, /Your package was pushed/);
      const again = await nuget(['push', file, '-ApiKey', ADMIN_KEY, '-Source', source()], pkgDir);
      assert.notEqual(again.status, 0);
      assert.match(again.output, /409|Conflict/);

      // Through the other node: the metadata came from the nuspec.
      const meta = await b.get('/api/Spaces-1/packages/packages-Hello.Lib.1.0.5');
      assert.equal(meta.json.Title, 'Hello Lib');
      assert.equal(meta.json.ReleaseNotes, 'First & best');

      const listed = await nuget(['list', '-Source', `${b.url}/nuget/packages`, '-NonInteractive'], work, { pty: true });
      assert.equal(listed.status, 0, listed.output);
      assert.match(listed.output, /Hello\.Lib 1\.0\.5/);
      assert.doesNotMatch(listed.output, /HelloApp/, 'zip packages are not NuGet packages');

      rmSync(path.join(home, '.local/share/NuGet/Cache'), { recursive: true, force: true });
      const out = path.join(work, 'installed');
      const installed = await nuget(['install', 'Hello.Lib', '-Source', `${b.url}/nuget/packages`, '-OutputDirectory', 'installed']);
      assert.equal(installed.status, 0, installed.output);
      assert.equal(readFileSync(path.join(out, 'Hello.Lib.1.0.5', 'content', 'hello.txt'), 'utf8'), 'hello from nuget');
      rmSync(path.join(home, '.local/share/NuGet/Cache'), { recursive: true, force: true });
      const pinned = await nuget(['install', 'Hello.Lib', '-Version', '1.0.5.0', '-Source', source(), '-OutputDirectory', 'pinned']);
      assert.equal(pinned.status, 0, pinned.output);
      const missing = await nuget(['install', 'Nope.Pkg', '-Source', source(), '-OutputDirectory', 'installed']);
      assert.notEqual(missing.status, 0);
      assert.match(missing.output, /Unable to find package 'Nope.Pkg'/);
    });

    test('delete with the API key; the feed root and $metadata are anonymous', async () => {
      const root = await fetch(`${a.url}/nuget/packages`);
      assert.equal(root.status, 200);
      const metadata = await (await fetch(`${a.url}/nuget/packages/$metadata`)).text();
      assert.match(metadata, /<EntitySet Name="Packages"/);
      assert.match(metadata, /IsAbsoluteLatestVersion/);
      const denied = await fetch(`${a.url}/nuget/packages/Hello.Lib/1.0.5`, { method: 'DELETE' });
      assert.equal(denied.status, 403);
      const del = await nuget(['delete', 'Hello.Lib', '1.0.5', '-ApiKey', ADMIN_KEY, '-Source', source()]);
      assert.equal(del.status, 0, del.output);
      assert.equal((await a.get('/api/Spaces-1/packages/packages-Hello.Lib.1.0.5')).status, 404);
      assert.deepEqual(filesOf('Hello.Lib'), []);
    });
  });
});
