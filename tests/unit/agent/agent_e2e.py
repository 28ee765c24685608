"""End-to-end: the real cuttle-agent binary against fake_server.py (the protocol of docs/agent.md).

Usage: agent_e2e.py <path to cuttle-agent> [unittest args]
"""
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_server import API_KEY, FakeServer  # noqa: E402

AGENT = None


class AgentE2E(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.tmp = tempfile.mkdtemp(prefix="cuttle-agent-e2e-")
        self.home = os.path.join(self.tmp, "home")
        self.procs = []
        self.register()

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        # Runners left by a test (a canceled or killed one) are killed by their journal pid.
        jdir = os.path.join(self.home, "journal")
        for cid in os.listdir(jdir) if os.path.isdir(jdir) else []:
            try:
                with open(os.path.join(jdir, cid, "state.json")) as f:
                    pid = json.load(f).get("Pid", 0)
                if pid > 0:
                    os.killpg(os.getpgid(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        # ...and what their scripts left running (a killed runner's `sleep`), by working folder.
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(self.tmp):
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cli(self, *args):
        return subprocess.run([AGENT, *args], capture_output=True, text=True, timeout=60)

    def register(self):
        r = self.cli("register", "--server", self.server.url, "--api-key", API_KEY,
                     "--name", "web-01", "--environment", "Production", "--role", "web",
                     "--home", self.home)
        self.assertEqual(r.returncode, 0, r.stderr)

    def start(self, *extra):
        log = open(os.path.join(self.tmp, f"agent-{len(self.procs)}.log"), "w")
        p = subprocess.Popen([AGENT, "run", "--home", self.home, *extra], stderr=log)
        log.close()
        self.procs.append(p)
        return p

    def wait_state(self, cid, states, timeout=30):
        ok = self.server.wait(lambda s: s.commands[cid]["state"] in states, timeout)
        self.assertTrue(ok, f"{cid} is {self.server.command(cid)['state']}, not {states}")
        return self.server.command(cid)

    def wait_log(self, cid, text, timeout=30):
        ok = self.server.wait(lambda s: any(text in c.decode()
                                            for c in s.commands[cid]["chunks"].values()), timeout)
        self.assertTrue(ok, f"{cid}: no chunk with {text!r}")

    def journal_state(self, cid):
        with open(os.path.join(self.home, "journal", cid, "state.json")) as f:
            return json.load(f)

    # ---- tests ----
    def test_register_is_idempotent_and_the_key_stays_home(self):
        key = os.path.join(self.home, "agent.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        with open(key) as f:
            before = f.read()
        self.register()
        with open(key) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(self.server.state.registrations, 2)
        with open(os.path.join(self.home, "agent.json")) as f:
            config = json.load(f)
        self.assertEqual(config["MachineId"], "Machines-7")
        r = self.cli("show", "--home", self.home)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["Id"], "Machines-7")
        self.assertEqual(self.server.state.bad_signatures, 0)

    def test_a_script_runs_and_reports_its_lines_and_outcome(self):
        self.server.enqueue("AgentCommands-1", {
            "ScriptBody": 'echo "hello #{Name}"\necho "$(get_octopusvariable Pw)"\n'
                          'set_octopusvariable Answer 42\n',
            "Variables": [{"Name": "Name", "Value": "world", "Sensitive": False},
                          {"Name": "Pw", "Value": "hunter2", "Sensitive": True}]})
        self.start()
        c = self.wait_state("AgentCommands-1", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", c["result"])
        self.assertEqual(self.server.log_texts("AgentCommands-1"), ["hello world", "********"])
        self.assertEqual(c["result"]["LastSeq"], max(int(k) for k in c["chunks"]))
        self.assertEqual(c["result"]["Outcome"]["OutputVariables"][0]["Value"], "42")
        self.assertEqual(c["claims"], 1)
        self.assertEqual(self.server.state.bad_signatures, 0)
        deadline = time.time() + 10  # the agent records the server's 200 just after it
        while self.journal_state("AgentCommands-1")["State"] != "acked" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.journal_state("AgentCommands-1")["State"], "acked")

    def test_a_killed_agent_reattaches_and_the_script_runs_once(self):
        marker = os.path.join(self.tmp, "marker")
        self.server.enqueue("AgentCommands-2", {
            "ScriptBody": f"echo start\necho ran >> {marker}\nsleep 3\necho end\n"})
        agent = self.start()
        self.wait_log("AgentCommands-2", "start")
        agent.kill()  # kill -9
        agent.wait()
        time.sleep(0.5)
        self.start()
        c = self.wait_state("AgentCommands-2", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", c["result"])
        with open(marker) as f:
            self.assertEqual(f.read(), "ran\n")
        self.assertEqual(self.server.log_texts("AgentCommands-2"), ["start", "end"])
        self.assertEqual(c["epoch"], 1)

    def test_a_runner_that_vanished_is_reported_unknown_and_never_rerun(self):
        marker = os.path.join(self.tmp, "marker")
        self.server.enqueue("AgentCommands-3", {
            "ScriptBody": f"echo ran >> {marker}\necho begin\nsleep 30\n"})
        agent = self.start()
        self.wait_log("AgentCommands-3", "begin")
        agent.kill()
        agent.wait()
        pid = self.journal_state("AgentCommands-3")["Pid"]
        self.assertGreater(pid, 0)
        os.killpg(os.getpgid(pid), signal.SIGKILL)
        time.sleep(0.3)
        self.start()
        c = self.wait_state("AgentCommands-3", {"succeeded", "failed", "unknown", "canceled"})
        self.assertEqual(c["state"], "unknown")
        self.assertEqual(c["result"]["Message"],
                         "the agent lost track of the step; it was not run again")
        with open(marker) as f:
            self.assertEqual(f.read(), "ran\n")

    def test_a_cancel_kills_the_script(self):
        self.server.enqueue("AgentCommands-4", {"ScriptBody": "echo waiting\nsleep 60\n"})
        self.start()
        self.wait_log("AgentCommands-4", "waiting")
        t0 = time.time()
        self.server.state.commands["AgentCommands-4"]["cancel"] = True
        c = self.wait_state("AgentCommands-4", {"succeeded", "failed", "unknown", "canceled"}, 20)
        self.assertEqual(c["state"], "canceled", c["result"])
        self.assertLess(time.time() - t0, 10)

    def test_lost_and_refused_chunks_are_resent(self):
        with self.server.state.lock:
            self.server.state.drop_chunks.add(("AgentCommands-5", 0))
            self.server.state.fail_logs = 2
        self.server.enqueue("AgentCommands-5", {"ScriptBody": "echo one\necho two\n"})
        self.start()
        c = self.wait_state("AgentCommands-5", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded")
        self.assertGreaterEqual(c["missing_answers"], 1)
        self.assertEqual(self.server.log_texts("AgentCommands-5"), ["one", "two"])

    def test_a_long_script_heartbeats_and_streams(self):
        self.server.enqueue("AgentCommands-6", {
            "ScriptBody": "for i in 1 2 3; do echo line$i; sleep 1; done\n"})
        self.start()
        self.wait_log("AgentCommands-6", "line1")
        c = self.wait_state("AgentCommands-6", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded")
        self.assertGreaterEqual(len(c["chunks"]), 2)  # streamed while running, not at the end
        self.assertEqual(self.server.log_texts("AgentCommands-6"), ["line1", "line2", "line3"])

    def _a_lost_command_sends_a_late_result(self, cid):
        self.server.enqueue(cid, {"ScriptBody": "echo before; sleep 3; echo after\n"})
        self.start()
        self.wait_log(cid, "before")
        self.server.lose(cid)
        ok = self.server.wait(lambda s: s.commands[cid]["late_result"] is not None, 30)
        self.assertTrue(ok, f"no late result: {self.server.command(cid)}")
        c = self.server.command(cid)
        self.assertEqual(c["state"], "lost")
        self.assertEqual(c["late_result"]["State"], "succeeded")  # the script was not stopped
        deadline = time.time() + 10  # the agent saves "acked" once the answer is in
        while self.journal_state(cid)["State"] != "acked" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.journal_state(cid)["State"], "acked")

    def test_a_lost_command_is_told_by_the_refusals_command_state(self):
        # The refusals' messages do not say "is lost": only CommandState does.
        self._a_lost_command_sends_a_late_result("AgentCommands-20")

    def test_a_lost_command_is_told_by_an_older_servers_message(self):
        self.server.state.structured_refusals = False  # no CommandState: "<id> is lost at ..."
        self._a_lost_command_sends_a_late_result("AgentCommands-21")

    def test_a_silent_script_heartbeats(self):
        self.server.enqueue("AgentCommands-9", {"ScriptBody": "sleep 3\n"})
        self.start()
        c = self.wait_state("AgentCommands-9", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded")
        self.assertGreaterEqual(c["heartbeats"], 1)
        self.assertEqual(c["result"]["LastSeq"], -1)

    def test_artifacts_are_uploaded_before_the_result(self):
        self.server.enqueue("AgentCommands-10", {"ScriptBody": (
            "printf 'report\\001\\377\\n' > report.bin\n"
            "new_octopusartifact report.bin 'the report.bin'\n"
            "echo gone > gone.txt\nnew_octopusartifact gone.txt\nrm gone.txt\n"
            "truncate -s 17M big.bin\nnew_octopusartifact big.bin\n"
            "truncate -s 19M huge.bin\nnew_octopusartifact huge.bin\n"
            "echo done\n")})
        self.start()
        c = self.wait_state("AgentCommands-10", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", (c["result"], self.server.log_texts("AgentCommands-10")))
        with self.server.state.lock:
            arts = dict(self.server.state.commands["AgentCommands-10"]["artifacts"])
        self.assertEqual(sorted(arts), [0, 2])
        self.assertEqual(arts[0]["name"], "the report.bin")
        self.assertEqual(arts[0]["data"], b"report\x01\xff\n")
        self.assertTrue(arts[0]["before_result"])
        texts = self.server.log_texts("AgentCommands-10")
        self.assertIn("Collected artifact the report.bin (9 bytes)", texts)
        # Larger than the 16 MiB of one request: in pieces of 4 MiB (the default), whole.
        self.assertEqual(arts[2]["data"], bytes(17 * 1024 * 1024))
        self.assertIn(f"Collected artifact big.bin ({17 * 1024 * 1024} bytes)", texts)
        with self.server.state.lock:
            pieces = list(self.server.state.commands["AgentCommands-10"]["piece_puts"])
        self.assertEqual([(n, o) for n, o, _ in pieces],
                         [(2, i * 4 * 1024 * 1024) for i in range(5)])
        warnings = [t for t in texts if "was not collected" in t]
        self.assertEqual(len(warnings), 2, texts)
        self.assertIn("The artifact 'gone.txt' was not collected: there is no such file", warnings)
        # Above the node's limit (18 MiB in the fake): 413 on the first piece.
        self.assertTrue(any("huge.bin" in w and "413" in w for w in warnings), warnings)
        self.assertEqual(self.server.state.bad_signatures, 0)

    def test_a_restarted_agent_neither_resends_nor_loses_an_artifact(self):
        cid = "AgentCommands-11"
        with self.server.state.lock:
            self.server.state.fail_artifacts[(cid, 1)] = 1000
        self.server.enqueue(cid, {"ScriptBody": (
            "echo one > one.txt\nnew_octopusartifact one.txt\n"
            "echo two > two.txt\nnew_octopusartifact two.txt\n")})
        agent = self.start()
        ok = self.server.wait(lambda s: 0 in s.commands[cid]["artifacts"]
                              and 1 in s.commands[cid]["artifact_puts"])
        self.assertTrue(ok, self.server.command(cid)["artifact_puts"])
        agent.kill()  # kill -9 while artifact 1 is refused with 503
        agent.wait()
        with self.server.state.lock:
            self.server.state.fail_artifacts[(cid, 1)] = 0
            self.assertIsNone(self.server.state.commands[cid]["result"])
        self.start()
        c = self.wait_state(cid, {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", c["result"])
        with self.server.state.lock:
            cmd = self.server.state.commands[cid]
            self.assertEqual(cmd["artifact_puts"].count(0), 1, cmd["artifact_puts"])
            self.assertEqual(cmd["artifacts"][0]["data"], b"one\n")
            self.assertEqual(cmd["artifacts"][1]["data"], b"two\n")
            self.assertTrue(cmd["artifacts"][1]["before_result"])

    def test_a_restarted_agent_resumes_an_upload_in_pieces(self):
        cid = "AgentCommands-12"
        piece = 64 * 1024
        expected = "".join(f"{i}\n" for i in range(1, 60001)).encode()  # 348894 bytes
        with self.server.state.lock:
            self.server.state.fail_pieces_from[(cid, 0)] = 2 * piece
        self.server.enqueue(cid, {"ScriptBody": "seq 1 60000 > big.txt\nnew_octopusartifact big.txt\n"})
        agent = self.start("--artifact-piece-bytes", "64K")
        ok = self.server.wait(lambda s: (0, 2 * piece, 503) in s.commands[cid]["piece_puts"])
        self.assertTrue(ok, self.server.command(cid)["piece_puts"])
        agent.kill()  # kill -9 mid-upload: two pieces held by the server
        agent.wait()
        with self.server.state.lock:
            del self.server.state.fail_pieces_from[(cid, 0)]
            self.assertIsNone(self.server.state.commands[cid]["result"])
        self.start("--artifact-piece-bytes", "64K")
        c = self.wait_state(cid, {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", c["result"])
        with self.server.state.lock:
            cmd = self.server.state.commands[cid]
            self.assertEqual(cmd["artifacts"][0]["data"], expected)
            self.assertTrue(cmd["artifacts"][0]["before_result"])
            accepted = [o for n, o, status in cmd["piece_puts"] if status == 200]
            # Each piece accepted once: the restarted agent asked where the server stood and
            # resumed at 128 KiB, not from 0.
            self.assertEqual(accepted, list(range(0, len(expected), piece)), cmd["piece_puts"])
            self.assertGreaterEqual(len(cmd["artifact_gets"]), 2)
            self.assertEqual(cmd["artifact_puts"], [])  # no single-request upload
        self.assertIn(f"Collected artifact big.txt ({len(expected)} bytes)",
                      self.server.log_texts(cid))
        self.assertEqual(self.server.state.bad_signatures, 0)

    def test_a_server_from_before_pieces_gets_a_file_in_one_request(self):
        cid = "AgentCommands-13"
        with self.server.state.lock:
            self.server.state.pieces = False
        self.server.enqueue(cid, {"ScriptBody": "seq 1 20000 > mid.txt\nnew_octopusartifact mid.txt\n"})
        self.start("--artifact-piece-bytes", "16K")
        c = self.wait_state(cid, {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", c["result"])
        expected = "".join(f"{i}\n" for i in range(1, 20001)).encode()
        with self.server.state.lock:
            cmd = self.server.state.commands[cid]
            self.assertEqual(cmd["artifacts"][0]["data"], expected)
            self.assertEqual(cmd["artifact_puts"], [0])  # one request, after the 405
            self.assertEqual(cmd["piece_puts"], [])

    def _package(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("deploy.sh", "echo deployed from the package\n")
            z.writestr("app.txt", "v1\n")
        return buf.getvalue()

    def test_a_package_is_downloaded_verified_and_deployed(self):
        data = self._package()
        self.server.add_package("Spaces-1", "web", "1.0.0", data)
        pkg = {"SpaceId": "Spaces-1", "PackageId": "web", "Version": "1.0.0",
               "Sha256": hashlib.sha256(data).hexdigest(), "Size": len(data),
               "FileName": "web.1.0.0.zip"}
        self.server.enqueue("AgentCommands-7", {"Kind": "package", "Package": pkg,
                            "Variables": [{"Name": "Octopus.Environment.Name",
                                           "Value": "Production", "Sensitive": False}]})
        self.server.enqueue("AgentCommands-8", {"Kind": "package", "Package": dict(
            pkg, Version="2.0.0", Sha256="0" * 64)})
        self.server.add_package("Spaces-1", "web", "2.0.0", data)
        self.start()
        c = self.wait_state("AgentCommands-7", {"succeeded", "failed", "unknown"})
        self.assertEqual(c["state"], "succeeded", (c["result"], self.server.log_texts("AgentCommands-7")))
        self.assertIn("deployed from the package", self.server.log_texts("AgentCommands-7"))
        self.assertTrue(os.path.exists(os.path.join(self.home, "packages", pkg["Sha256"])))
        bad = self.wait_state("AgentCommands-8", {"succeeded", "failed", "unknown"})
        self.assertEqual(bad["state"], "failed")
        self.assertIn("the package web 2.0.0 failed verification", bad["result"]["Message"])
        self.assertFalse(os.path.exists(os.path.join(self.home, "packages", "0" * 64 + ".partial")))

    def test_a_revoked_agent_exits_3(self):
        agent = self.start()
        time.sleep(0.5)
        urllib_revoke(self.server.url)
        self.assertEqual(agent.wait(timeout=20), 3)
        r = self.cli("show", "--home", self.home)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_deregister_deletes_the_machine(self):
        r = self.cli("deregister", "--home", self.home)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(self.server.state.agent)
        self.assertTrue(os.path.exists(os.path.join(self.home, "agent.key")))


def urllib_revoke(url):
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(url + "/_test/revoke", method="POST")).read()


if __name__ == "__main__":
    AGENT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
