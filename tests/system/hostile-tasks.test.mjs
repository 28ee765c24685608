// Hostile scripts (issue 9, parts 4-7 and 9c): ad-hoc script tasks that try to read devices,
// FIFOs and files outside their folder as artifacts, print the node's environment, write one
// endless line, and plant symlinks in the work folder. After each: ping answers, the node's RSS
// stays within 64 MiB of its size at start, no temporary file is left in the artifact store or the
// work folder, and no artifact row exists for a refused artifact.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdirSync, symlinkSync, statSync, openSync, readSync, closeSync,
  existsSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Node, SERVER_BIN, tempDir, freePort, eventually, sleep } from './lib/cluster.mjs';

const FINAL = new Set(['Success', 'Failed', 'Canceled', 'TimedOut']);
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
const GIB = 1024 * 1024 * 1024;
// Large enough that a copy takes seconds (it is sparse: no disk is used to make it).
const BIG_BYTES = 6 * GIB;

const b64 = (s) => Buffer.from(s).toString('base64');
// A createArtifact service message as a script would print it by hand (no helper, no length).
const createArtifact = (p, name, length) =>
  `echo "##octopus[createArtifact path='${b64(p)}' name='${b64(name)}'${length === undefined ? '' : ` length='${b64(String(length))}'`}]"`;

function rssBytes(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime, in clock ticks
}

// Every file under `dir` (recursively), relative to it.
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isDirectory()) out.push(path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
  }
  return out;
}

describe('hostile ad-hoc scripts on one node', async () => {
  const dir = tempDir();
  const masterKey = execFileSync(SERVER_BIN, ['master-key', 'generate']).toString().trim();
  const artifactsDir = path.join(dir, 'artifacts');
  const workDir = path.join(dir, 'work', 'hostile');
  const node = new Node({
    name: 'hostile', sharedDir: dir, port: await freePort(),
    env: { CUTTLE_MASTER_KEY: masterKey },
    extraArgs: ['--max-artifact-size', '8GiB'],
  });
  let baselineRss;

  before(async () => {
    await node.start();
    baselineRss = rssBytes(node.pid);
  });
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  const script = (body) => node.api('POST', '/api/tasks',
    { body: { Name: 'AdHocScript', Arguments: { ScriptBody: body, Syntax: 'Bash' } } });
  const waitFinal = (id, timeoutMs = 30000) => eventually(async () => {
    const r = await node.get(`/api/tasks/${id}`);
    return FINAL.has(r.json?.State) ? r.json : null;
  }, { timeoutMs, intervalMs: 25, what: `${id} to finish` });
  const rawLog = async (id) => (await node.get(`/api/tasks/${id}/raw`)).text;
  const artifactsOf = async (id) => (await node.get(`/api/Spaces-1/artifacts?regarding=${id}`)).json;

  async function run(body) {
    const created = await script(body);
    assert.equal(created.status, 201, created.text);
    return waitFinal(created.json.Id);
  }

  // What every attack must leave behind: a node that answers, at its size, with clean stores.
  async function assertHealthy(what) {
    assert.equal((await node.get('/api/octopusservernodes/ping')).status, 200, `${what}: ping`);
    const rss = rssBytes(node.pid);
    assert.ok(rss - baselineRss < RSS_GROWTH_BOUND,
      `${what}: RSS grew by ${((rss - baselineRss) / 2 ** 20).toFixed(1)} MiB (bound 64 MiB)`);
    assert.deepEqual(filesUnder(artifactsDir).filter((f) => path.basename(f).startsWith('.tmp')), [],
      `${what}: temporary files in the artifact store`);
    const left = filesUnder(workDir);
    assert.deepEqual(left, [], `${what}: files left in the work folder`);
  }

  // Bug (#5): scripts inherited the node's environment; `env` printed CUTTLE_MASTER_KEY.
  test('the script sees none of the node\'s settings: the master key never reaches the log', async () => {
    const done = await run('env\necho "key=[$CUTTLE_MASTER_KEY]"\ncat /proc/self/environ | tr "\\0" "\\n"');
    assert.equal(done.State, 'Success');
    const log = await rawLog(done.Id);
    assert.ok(!log.includes(masterKey), 'the master key is in the task log');
    assert.doesNotMatch(log, /CUTTLE_/);
    assert.match(log, /OCTOPUS_TASK_ID=ServerTasks-/);
    assert.match(log, /key=\[\]/);
    await assertHealthy('env');
  });

  // Bug (#4): createArtifact of /dev/zero copied ~1 GB/s until the store held 16.8 GB.
  test('createArtifact of /dev/zero is refused at once, with no copy', async () => {
    const cpu0 = cpuSeconds(node.pid);
    const done = await run(`new_octopusartifact /dev/zero zero.bin\n${createArtifact('/dev/zero', 'zero2.bin')}`);
    assert.equal(done.State, 'Success');
    const log = await rawLog(done.Id);
    assert.match(log, /Artifact zero\.bin was not collected: '\/dev\/zero' is not inside the task's working folder/);
    assert.match(log, /Artifact zero2\.bin was not collected/);
    assert.equal((await artifactsOf(done.Id)).TotalResults, 0);
    console.log(`# /dev/zero: node CPU ${(cpuSeconds(node.pid) - cpu0).toFixed(2)} s for the task`);
    await assertHealthy('/dev/zero');
  });

  // Bug (#4): a FIFO blocked the artifact copy forever.
  test('a FIFO is refused without waiting for a writer', async () => {
    const done = await run(`mkfifo pipe\n${createArtifact('pipe', 'pipe.bin')}`);
    assert.equal(done.State, 'Success');
    assert.match(await rawLog(done.Id), /Artifact pipe\.bin was not collected: 'pipe' is not a regular file/);
    assert.equal((await artifactsOf(done.Id)).TotalResults, 0);
    await assertHealthy('fifo');
  });

  // Bug (#4): the master key or /etc/shadow could be collected as an artifact.
  test('files outside the working folder are refused, by path, by .. and by symlink', async () => {
    const db = path.join(dir, 'cuttle.db');
    const done = await run([
      `ln -s ${db} db.bin`, 'new_octopusartifact db.bin db.bin',
      'ln -s /etc/shadow shadow', createArtifact('shadow', 'shadow.txt'),
      createArtifact(db, 'direct.bin'),
      createArtifact('../../../cuttle.db', 'dotdot.bin'),
    ].join('\n'));
    assert.equal(done.State, 'Success');
    const log = await rawLog(done.Id);
    for (const name of ['db.bin', 'shadow.txt', 'direct.bin', 'dotdot.bin']) {
      assert.match(log, new RegExp(`Artifact ${name.replace('.', '\\.')} was not collected: '[^']*' is not inside`), name);
    }
    assert.ok(!log.includes(workDir), 'the log names the node\'s work folder');
    assert.equal((await artifactsOf(done.Id)).TotalResults, 0);
    await assertHealthy('outside');
  });

  // Bug (#4): neither the declared length nor any maximum size was enforced.
  test('a file over tasks.max_artifact_bytes, or of another length than declared, is refused', async () => {
    const done = await run([
      'truncate -s 9G huge.bin', 'new_octopusartifact huge.bin huge.bin',
      'printf 12345 > five.txt', createArtifact('five.txt', 'five.txt', 10),
    ].join('\n'));
    assert.equal(done.State, 'Success');
    const log = await rawLog(done.Id);
    assert.ok(!log.includes(workDir), 'the log names the node\'s work folder');
    assert.match(log, /Artifact huge\.bin was not collected: 'huge\.bin' is 9663676416 bytes, more than the 8589934592 bytes/);
    assert.match(log, /Artifact five\.txt was not collected: 'five\.txt' is 5 bytes, but the script declared a length of 10/);
    assert.equal((await artifactsOf(done.Id)).TotalResults, 0);
    await assertHealthy('over the cap');
  });

  // Bug (#6): one 300 MB line cost quadratic CPU and unbounded memory in the line splitter.
  test('one 300 MB output line is cut into 64 KiB lines in bounded memory', async () => {
    const cpu0 = cpuSeconds(node.pid);
    const t0 = Date.now();
    const done = await run('head -c 300000000 /dev/zero | tr "\\0" x\necho\necho after-the-long-line');
    assert.equal(done.State, 'Success');
    console.log(`# 300 MB line: ${Date.now() - t0} ms, node CPU ${(cpuSeconds(node.pid) - cpu0).toFixed(2)} s`);
    // Read the log file's head and tail only: the whole is over 300 MB.
    const file = path.join(dir, 'tasklogs', `${done.Id.toLowerCase()}.log`);
    const size = statSync(file).size;
    assert.ok(size > 300_000_000, `log is ${size} bytes`);
    const fd = openSync(file, 'r');
    const head = Buffer.alloc(3 * 65536);
    readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(4096);
    readSync(fd, tail, 0, tail.length, size - tail.length);
    closeSync(fd);
    const lines = head.toString('latin1').split('\n');
    const longest = Math.max(...lines.slice(0, -1).map((l) => l.length));
    assert.ok(longest <= 65536 + 200, `a log line of ${longest} bytes`);
    assert.ok(longest >= 65536, 'the pieces are full 64 KiB');
    assert.match(tail.toString('latin1'), /after-the-long-line/);
    await assertHealthy('long line');
  });

  // Bug (#7): the work folder was predictable; script.sh was written through a planted symlink.
  test('the work folder is private and a symlink planted where a task folder would be is not followed', async () => {
    assert.equal(statSync(workDir).mode & 0o777, 0o700);
    const victim = path.join(dir, 'victim');
    mkdirSync(victim);
    // The old predictable names of the next tasks' folders.
    const next = Number((await script('true')).json.Id.split('-')[1]) + 1;
    for (let i = next; i < next + 20; i++) symlinkSync(victim, path.join(workDir, `servertasks-${i}`));
    const done = await run('echo planted > mine.txt\npwd');
    assert.equal(done.State, 'Success');
    assert.deepEqual(readdirSync(victim), [], 'the script wrote through the planted symlink');
    assert.doesNotMatch(await rawLog(done.Id), new RegExp(victim));
    for (let i = next; i < next + 20; i++) rmSync(path.join(workDir, `servertasks-${i}`));
    await assertHealthy('planted symlink');
  });

  test('a regular file in the folder is collected whole (the copy rate, measured)', async () => {
    const t0 = Date.now();
    const done = await run(`truncate -s ${GIB} one.bin\nnew_octopusartifact one.bin one.bin`);
    const ms = Date.now() - t0;
    assert.equal(done.State, 'Success');
    const a = (await artifactsOf(done.Id)).Items[0];
    assert.equal(a.Size, GIB);
    assert.equal(statSync(path.join(artifactsDir, done.Id.toLowerCase(), 'one.bin')).size, GIB);
    console.log(`# a 1 GiB artifact collected in ${ms} ms (${(1024 / (ms / 1000)).toFixed(0)} MiB/s, script included)`);
    assert.equal((await node.api('DELETE', `/api/Spaces-1/artifacts/${a.Id}`)).status, 200);
    await assertHealthy('1 GiB copy');
  });

  // Bug (#9c): the artifact's name went into Content-Disposition unescaped.
  test('the artifact download names the file per RFC 6266', async () => {
    const name = 'we"ird ✓;.txt';
    const done = await run(`printf abc > a.txt\nnew_octopusartifact a.txt '${name}'`);
    assert.equal(done.State, 'Success');
    const a = (await artifactsOf(done.Id)).Items[0];
    assert.equal(a.Filename, name);
    const content = await node.get(`/api/Spaces-1/artifacts/${a.Id}/content`);
    assert.equal(content.text, 'abc');
    assert.equal(content.headers.get('content-disposition'),
      'attachment; filename="we_ird ___;.txt"; filename*=UTF-8\'\'we%22ird%20%E2%9C%93%3B.txt');
    await assertHealthy('content-disposition');
  });

  // Bug (#4): cancelling the task did not stop an artifact copy.
  test('cancel stops a copy from a huge source and leaves nothing behind', async () => {
    const created = await script(`truncate -s ${BIG_BYTES} big.bin\nnew_octopusartifact big.bin big.bin`);
    const id = created.json.Id;
    const temp = await eventually(() => filesUnder(artifactsDir).find((f) => path.basename(f).startsWith('.tmp-artifact')),
      { timeoutMs: 20000, intervalMs: 5, what: 'the copy to start' });
    const t0 = Date.now();
    assert.equal((await node.api('POST', `/api/tasks/${id}/cancel`, { body: {} })).status, 200);
    const done = await waitFinal(id);
    const stoppedMs = Date.now() - t0;
    const copied = existsSync(path.join(artifactsDir, temp)) ? statSync(path.join(artifactsDir, temp)).size : 0;
    console.log(`# cancel of a ${BIG_BYTES / GIB} GiB copy: Canceled ${stoppedMs} ms after the cancel request`);
    assert.equal(done.State, 'Canceled');
    assert.equal(copied, 0, 'the temporary file is gone');
    assert.equal((await artifactsOf(id)).TotalResults, 0);
    assert.match(await rawLog(id), /The task was canceled/);
    await assertHealthy('cancel');
  });

  // Bug (#4): SIGTERM did not stop a node copying an artifact.
  test('SIGTERM stops a node copying a huge artifact; a restart finds nothing left', async () => {
    const created = await script(`truncate -s ${BIG_BYTES} big.bin\nnew_octopusartifact big.bin big.bin`);
    await eventually(() => filesUnder(artifactsDir).some((f) => path.basename(f).startsWith('.tmp-artifact')),
      { timeoutMs: 20000, intervalMs: 5, what: 'the copy to start' });
    const t0 = Date.now();
    const exited = await node.stop();
    console.log(`# SIGTERM during a ${BIG_BYTES / GIB} GiB copy: node exited after ${Date.now() - t0} ms`);
    assert.equal(exited.signal, null, 'the node had to be killed');
    assert.equal(exited.code, 0);
    assert.deepEqual(filesUnder(artifactsDir).filter((f) => path.basename(f).startsWith('.tmp')), []);
    await node.start();
    baselineRss = rssBytes(node.pid);
    // The copy may have finished within the shutdown's grace (10 s); if not, it was stopped and
    // the task given up. Either way the store holds a whole artifact or none.
    const done = await waitFinal(created.json.Id);
    const rows = (await artifactsOf(created.json.Id)).TotalResults;
    console.log(`# SIGTERM: the task ended ${done.State} with ${rows} artifact(s)`);
    assert.equal(rows, done.State === 'Success' ? 1 : 0);
    if (rows) assert.equal((await artifactsOf(created.json.Id)).Items[0].Size, BIG_BYTES);
    await assertHealthy('sigterm');
  });

  // Bug (#4): a node killed during an artifact copy left its temporary file in the store for ever.
  test('the temporary file of a copy killed with the node is swept when it starts again', async () => {
    await script(`truncate -s ${BIG_BYTES} big.bin\nnew_octopusartifact big.bin big.bin`);
    await eventually(() => filesUnder(artifactsDir).some((f) => path.basename(f).startsWith('.tmp-artifact@hostile@')),
      { timeoutMs: 20000, intervalMs: 5, what: 'the copy to start' });
    await node.kill();
    assert.ok(filesUnder(artifactsDir).some((f) => path.basename(f).startsWith('.tmp')), 'the kill left a temporary file');
    await node.start();
    baselineRss = rssBytes(node.pid);
    await assertHealthy('kill during a copy');
  });

  // Bug (#7): the folders of tasks killed with their node were never removed.
  test('the folders of tasks killed with the node are swept when it starts again', async () => {
    const created = await script('echo started > here.txt\nsleep 600');
    await eventually(() => filesUnder(workDir).some((f) => f.endsWith('here.txt')),
      { timeoutMs: 20000, what: 'the script to start' });
    await node.kill();
    assert.ok(filesUnder(workDir).length > 0, 'the killed task left its folder');
    await node.start();
    baselineRss = rssBytes(node.pid);
    assert.deepEqual(readdirSync(workDir), []);
    await waitFinal(created.json.Id);
    await assertHealthy('sweep');
  });
});

describe('the script timeout stops an artifact copy', async () => {
  const dir = tempDir();
  const artifactsDir = path.join(dir, 'artifacts');
  const node = new Node({
    name: 'timeout', sharedDir: dir, port: await freePort(),
    extraArgs: ['--max-artifact-size', '16GiB', '--script-timeout-ms', '3000'],
  });
  before(() => node.start());
  after(async () => { await node.kill(); rmSync(dir, { recursive: true, force: true }); });

  // Bug (#4): the script timeout did not stop an artifact copy.
  test('a copy still running at the deadline is stopped and the task fails', async () => {
    const baseline = rssBytes(node.pid);
    const created = await node.api('POST', '/api/tasks', { body: { Name: 'AdHocScript',
      Arguments: { ScriptBody: 'truncate -s 12G big.bin\nnew_octopusartifact big.bin big.bin', Syntax: 'Bash' } } });
    assert.equal(created.status, 201, created.text);
    const done = await eventually(async () => {
      const r = await node.get(`/api/tasks/${created.json.Id}`);
      return FINAL.has(r.json?.State) ? r.json : null;
    }, { timeoutMs: 30000, intervalMs: 25, what: 'the task to finish' });
    console.log(`# script timeout 3000 ms with a 12 GiB copy: task ${done.State} after ${done.Duration}`);
    assert.equal(done.State, 'Failed');
    assert.match(done.ErrorMessage, /did not finish within 3000 ms \(collecting artifacts\)/);
    assert.equal((await node.get(`/api/Spaces-1/artifacts?regarding=${done.Id}`)).json.TotalResults, 0);
    assert.deepEqual(filesUnder(artifactsDir), []);
    assert.deepEqual(filesUnder(path.join(dir, 'work', 'timeout')), []);
    assert.equal((await node.get('/api/octopusservernodes/ping')).status, 200);
    assert.ok(rssBytes(node.pid) - baseline < RSS_GROWTH_BOUND);
  });
});
