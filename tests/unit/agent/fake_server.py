"""A fake of the agent half of cuttle-server (docs/agent.md), in memory, for agent_e2e.py.

It keeps the protocol's rules that the agent must cope with — epochs and 410 fencing, chunk
seqs (duplicate 200, different 409), result 412 with MissingSeqs, 401 "is not registered",
the refusals' CommandState and Epoch fields (or, with structured_refusals off, an older server's
messages that only name the state), a lost command's late result,
Range downloads — and verifies every request's Ed25519 signature over the exact target and body
(python3-cryptography). Test hooks live under /_test/.
"""
import base64
import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Required (scripts/install-deps.sh installs python3-cryptography): the test must fail, not pass
# unchecked, when signatures cannot be verified.
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

API = "/api/agent/v1"
API_KEY = "API-TEST"


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.agent = None  # {"MachineId", "PublicKey" (raw), "Name"}
        self.commands = {}  # id -> dict
        self.order = []
        self.packages = {}  # (space, id, version) -> bytes
        self.nonces = set()
        self.drop_chunks = set()  # (command id, seq) accepted but not stored, once
        self.fail_logs = 0  # next N log PUTs answer 503
        self.fail_artifacts = {}  # (command id, n) -> how many more PUTs of it answer 503
        # (command id, n) -> pieces at this offset or beyond answer 503 (while set)
        self.fail_pieces_from = {}
        self.max_artifact_bytes = 18 * 1024 * 1024  # the node's tasks.max_artifact_bytes
        self.pieces = True  # False: a server from before uploads in pieces (GET of one is 405)
        self.bad_signatures = 0
        self.requests = []  # (method, path)
        self.registrations = 0
        # True: refusals carry CommandState/Epoch and messages that do not name the state (the
        # agent must read the fields). False: an older server's, "<id> is <state> ...", no fields.
        self.structured_refusals = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None  # set by FakeServer

    def log_message(self, *args):  # quiet
        pass

    # ---- plumbing ----
    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, obj=None, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status, message, **extra):
        body = {"ErrorMessage": message, "Errors": [message]}
        body.update(extra)
        self._send(status, body)

    def _authenticate(self, body):
        s = self.state
        h = self.headers.get("Authorization", "")
        if not h.startswith("CuttleAgent "):
            self._error(401, "The request is not signed.")
            return False
        parts = h[len("CuttleAgent "):].split(":")
        if len(parts) != 4:
            self._error(401, "The Authorization header is malformed.")
            return False
        machine, ms, nonce, sig = parts
        if s.agent is None or s.agent["MachineId"] != machine:
            self._error(401, f"The agent {machine} is not registered with this server.")
            return False
        if abs(int(ms) - time.time() * 1000) > 120_000:
            self._error(401, "The request's time is too far from the server's clock.")
            return False
        if (machine, nonce) in s.nonces:
            self._error(401, "The request was replayed.")
            return False
        s.nonces.add((machine, nonce))
        signing = "\n".join([
            "cuttle-agent-v1", self.command, self.path, ms, nonce,
            hashlib.sha256(body).hexdigest()]).encode()
        try:
            Ed25519PublicKey.from_public_bytes(s.agent["PublicKey"]).verify(
                base64.b64decode(sig), signing)
        except Exception:
            s.bad_signatures += 1
            self._error(401, "The signature does not verify.")
            return False
        return True

    def _command(self, cid):
        c = self.state.commands.get(cid)
        if c is None:
            self._error(404, f"The command {cid} was not found.")
        return c

    def _refuse(self, status, c, older_message, epoch=True):
        if not self.state.structured_refusals:
            return self._error(status, older_message)
        extra = {"CommandState": c["state"]}
        if epoch:
            extra["Epoch"] = c["epoch"]
        self._error(status, "The command's write was refused.", **extra)

    def _epoch_ok(self, c):
        epoch = int(self.headers.get("Cuttle-Epoch") or -1)
        if c["state"] != "running" or epoch != c["epoch"]:
            self._refuse(410, c, f"{c['id']} is {c['state']} at epoch {c['epoch']}; a write of "
                                 f"epoch {epoch} is refused.")
            return False
        return True

    # ---- routes ----
    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, method):
        body = self._body()
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        s = self.state
        with s.lock:
            s.requests.append((method, path))
        if path.startswith("/_test/"):
            return self._test(method, path[len("/_test/"):], query, body)
        if not path.startswith(API):
            return self._error(404, "no such route")
        rest = path[len(API):].strip("/").split("/")
        if rest == ["register"] and method == "POST":
            return self._register(body)
        with s.lock:
            if not self._authenticate(body):
                return
        if rest == ["poll"] and method == "GET":
            return self._poll(int(query.get("wait", ["25"])[0]))
        if rest == ["me"]:
            with s.lock:
                agent = dict(s.agent)
                if method == "DELETE":
                    s.agent = None
                    for c in s.commands.values():
                        if c["state"] in ("queued", "offered"):
                            c["state"] = "canceled"
                    s.lock.notify_all()
            return self._send(200, {"Id": agent["MachineId"], "Name": agent["Name"],
                                    "Endpoint": {"CommunicationStyle": "TentacleActive"}})
        if rest[0] == "commands" and len(rest) >= 3:
            with s.lock:
                c = self._command(rest[1])
                if c is None:
                    return
                return self._command_route(method, c, rest[2:], body)
        if rest[0] == "packages" and len(rest) == 4 and method == "GET":
            return self._package(tuple(rest[1:]))
        self._error(404, "no such route")

    def _register(self, body):
        s = self.state
        if self.headers.get("X-Octopus-ApiKey") != API_KEY:
            return self._error(401, "The API key is not valid.")
        req = json.loads(body)
        if not req.get("Environments") or not req.get("Roles"):
            return self._error(400, "At least one environment and one role are required.")
        pk = base64.b64decode(req["PublicKey"])
        with s.lock:
            s.registrations += 1
            status = 201
            if s.agent is not None and s.agent["PublicKey"] == pk:
                status = 200
                s.agent["Name"] = req["Name"]
            else:
                s.agent = {"MachineId": "Machines-7", "PublicKey": pk, "Name": req["Name"],
                           "Environments": req["Environments"], "Roles": req["Roles"]}
            thumb = hashlib.sha256(pk).hexdigest()[:40].upper()
            self._send(status, {"MachineId": "Machines-7", "SpaceId": req.get("SpaceId", "Spaces-1"),
                                "Name": req["Name"], "Thumbprint": thumb, "PollSeconds": 2,
                                "LeaseSeconds": 45, "HeartbeatSeconds": 1})

    def _poll(self, wait):
        s = self.state
        deadline = time.time() + min(wait, 25)
        with s.lock:
            while True:
                if s.agent is None:
                    return self._error(401, "The agent is not registered with this server.")
                offers, cancels = [], []
                now = time.time()
                for cid in s.order:
                    c = s.commands[cid]
                    if c["state"] == "queued" or (c["state"] == "offered" and c["offer_expires"] < now):
                        c["state"] = "offered"
                        c["offer_expires"] = now + 15
                        c["deliveries"] += 1
                        offers.append({"CommandId": cid, "Kind": c["envelope"]["Kind"],
                                       "Envelope": c["envelope"]})
                    elif c["state"] == "running" and c["cancel"]:
                        cancels.append(cid)
                if offers or cancels:
                    return self._send(200, {"Offers": offers[:10], "Cancels": cancels})
                left = deadline - time.time()
                if left <= 0:
                    return self._send(204)
                s.lock.wait(min(left, 0.2))

    def _command_route(self, method, c, rest, body):
        s = self.state
        if rest == ["claim"] and method == "POST":
            c["claims"] += 1
            if c["state"] in ("queued", "offered"):
                c["state"] = "running"
                c["epoch"] += 1
            elif c["state"] != "running":
                return self._refuse(409, c, f"{c['id']} is {c['state']}; it cannot be claimed.",
                                    epoch=False)
            return self._send(200, {"Epoch": c["epoch"], "LeaseSeconds": 45, "HeartbeatSeconds": 1})
        if rest == ["heartbeat"] and method == "POST":
            if not self._epoch_ok(c):
                return
            c["heartbeats"] += 1
            return self._send(200, {"Cancel": c["cancel"]})
        if len(rest) == 2 and rest[0] == "log" and method == "PUT":
            if s.fail_logs > 0:
                s.fail_logs -= 1
                return self._error(503, "The server is busy.")
            if not self._epoch_ok(c):
                return
            seq = int(rest[1])
            c["puts"].append(seq)
            if (c["id"], seq) in s.drop_chunks:
                s.drop_chunks.discard((c["id"], seq))
                return self._send(201, {"Cancel": c["cancel"]})
            if seq in c["chunks"]:
                if c["chunks"][seq] != body:
                    return self._error(409, f"Chunk {seq} differs.")
                return self._send(200, {"Cancel": c["cancel"]})
            c["chunks"][seq] = body
            return self._send(201, {"Cancel": c["cancel"]})
        if len(rest) == 2 and rest[0] == "artifacts" and method == "GET":
            # Where a piecewise upload stands (docs/agent.md, "Uploads in pieces").
            if not s.pieces:
                return self._error(405, "The method GET is not allowed here.")
            n = int(rest[1])
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            size = int(query.get("size", ["0"])[0])
            sha = (self.headers.get("Cuttle-Sha256") or "").strip().lower()
            c["artifact_gets"].append(n)
            if n in c["artifacts"]:
                if c["artifacts"][n]["sha"] != sha:
                    return self._error(409, f"Artifact {n} is another file already.")
                return self._send(200, {"ArtifactId": f"Artifacts-{n}", "Received": size,
                                        "Size": size})
            held = c["partials"].get(f"{n}:{sha}", b"")
            return self._send(200, {"Received": len(held), "Size": size})
        if (len(rest) == 2 and rest[0] == "artifacts" and method == "PUT"
                and "offset=" in self.path and s.pieces):
            return self._piece(c, int(rest[1]), body)
        if len(rest) == 2 and rest[0] == "artifacts" and method == "PUT":
            # As the server: signed, fenced on the epoch, idempotent on (n, SHA-256), 16 MiB.
            n = int(rest[1])
            key = (c["id"], n)
            if s.fail_artifacts.get(key, 0) > 0:
                s.fail_artifacts[key] -= 1
                c["artifact_puts"].append(n)
                return self._error(503, "The server is busy.")
            name = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("name", [""])[0]
            sha = (self.headers.get("Cuttle-Sha256") or "").strip().lower()
            if sha != hashlib.sha256(body).hexdigest():
                return self._error(400, "The Cuttle-Sha256 header must be the body's SHA-256.")
            if len(body) > min(16 * 1024 * 1024, s.max_artifact_bytes):
                return self._error(413, "An artifact from an agent is at most 16777216 bytes.")
            if n in c["artifacts"]:
                if c["artifacts"][n]["sha"] != sha:
                    return self._error(409, f"Artifact {n} is another file already.")
                return self._send(200, {"ArtifactId": f"Artifacts-{n}"})
            if not self._epoch_ok(c):
                return
            c["artifact_puts"].append(n)
            c["artifacts"][n] = {"name": name, "sha": sha, "data": body,
                                 "before_result": c["result"] is None}
            s.lock.notify_all()
            return self._send(201, {"ArtifactId": f"Artifacts-{n}"})
        if rest == ["result"] and method == "PUT":
            epoch = int(self.headers.get("Cuttle-Epoch") or -1)
            if c["state"] == "lost" and epoch == c["epoch"]:  # kept for audit only
                c["late_result"] = json.loads(body)
                s.lock.notify_all()
                return self._send(200, {"Late": True})
            if not self._epoch_ok(c):
                if c["state"] not in ("running",) and c["result"] is not None:
                    pass
                return
            r = json.loads(body)
            missing = [i for i in range(r["LastSeq"] + 1) if i not in c["chunks"]]
            if missing:
                c["missing_answers"] += 1
                return self._error(412, "Chunks are missing.", MissingSeqs=missing)
            c["result"] = r
            c["state"] = r["State"]
            s.lock.notify_all()
            return self._send(200, {})
        self._error(404, "no such route")

    def _piece(self, c, n, body):
        """One piece: appended to the partial file of (n, SHA-256), as the server does."""
        s = self.state
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        offset = int(query["offset"][0])
        size = int(query["size"][0])
        name = query.get("name", [""])[0]
        sha = (self.headers.get("Cuttle-Sha256") or "").strip().lower()
        limit = s.fail_pieces_from.get((c["id"], n))
        if limit is not None and offset >= limit:
            c["piece_puts"].append((n, offset, 503))
            return self._error(503, "The server is busy.")
        if size > s.max_artifact_bytes:
            return self._error(413, f"An artifact from an agent is at most "
                                    f"{s.max_artifact_bytes} bytes (tasks.max_artifact_bytes).")
        if not body or offset + len(body) > size:
            return self._error(400, "A piece is not inside the file.")
        if n in c["artifacts"]:
            if c["artifacts"][n]["sha"] != sha:
                return self._error(409, f"Artifact {n} is another file already.")
            return self._send(200, {"ArtifactId": f"Artifacts-{n}"})
        if not self._epoch_ok(c):
            return
        held = c["partials"].get(f"{n}:{sha}", b"")
        if offset > len(held) or held[offset:offset + len(body)] != body[:len(held) - offset]:
            c["piece_puts"].append((n, offset, 409))
            return self._error(409, f"send from offset {len(held)}", Received=len(held), Size=size)
        if offset + len(body) > len(held):
            held = held[:offset] + body
        c["partials"][f"{n}:{sha}"] = held
        c["piece_puts"].append((n, offset, 200))
        if len(held) < size:
            return self._send(200, {"Received": len(held), "Size": size})
        del c["partials"][f"{n}:{sha}"]
        if hashlib.sha256(held).hexdigest() != sha:
            return self._error(400, "The file's SHA-256 is not the header's.")
        c["artifacts"][n] = {"name": name, "sha": sha, "data": held,
                             "before_result": c["result"] is None}
        s.lock.notify_all()
        return self._send(201, {"ArtifactId": f"Artifacts-{n}", "Received": size, "Size": size})

    def _package(self, key):
        data = self.state.packages.get(key)
        if data is None:
            return self._error(404, "no such package")
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0])
            if start >= len(data):
                return self._send(416, raw=b"", headers={"Content-Range": f"bytes */{len(data)}"})
            return self._send(206, raw=data[start:], headers={
                "Accept-Ranges": "bytes", "ETag": etag,
                "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        self._send(200, raw=data, headers={"Accept-Ranges": "bytes", "ETag": etag})

    # ---- test hooks ----
    def _test(self, method, what, query, body):
        s = self.state
        with s.lock:
            if what == "revoke":
                s.agent = None
                s.lock.notify_all()
                return self._send(200, {})
            if what.startswith("cancel/"):
                s.commands[what[len("cancel/"):]]["cancel"] = True
                s.lock.notify_all()
                return self._send(200, {})
        self._error(404, "no such hook")


class FakeServer:
    def __init__(self):
        self.state = State()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.handle_error = lambda request, address: None  # a killed agent resets sockets
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def enqueue(self, cid, envelope):
        envelope = dict(envelope)
        envelope["CommandId"] = cid
        envelope.setdefault("Kind", "script")
        envelope.setdefault("TaskId", "ServerTasks-1")
        envelope.setdefault("Syntax", "Bash")
        with self.state.lock:
            self.state.commands[cid] = {
                "id": cid, "envelope": envelope, "state": "queued", "epoch": 0, "claims": 0,
                "deliveries": 0, "offer_expires": 0, "cancel": False, "chunks": {}, "puts": [],
                "result": None, "late_result": None, "heartbeats": 0, "missing_answers": 0,
                "artifacts": {}, "artifact_puts": [], "artifact_gets": [], "partials": {},
                "piece_puts": []}
            self.state.order.append(cid)
            self.state.lock.notify_all()

    def lose(self, cid):
        """The owner's lease ran out: the command is lost (its late result is kept)."""
        with self.state.lock:
            self.state.commands[cid]["state"] = "lost"
            self.state.lock.notify_all()

    def add_package(self, space, pid, version, data):
        with self.state.lock:
            self.state.packages[(space, pid, version)] = data

    def command(self, cid):
        with self.state.lock:
            return json.loads(json.dumps(self.state.commands[cid], default=lambda b: b.decode("utf-8", "replace")))

    def wait(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.state.lock:
                if predicate(self.state):
                    return True
            time.sleep(0.05)
        return False

    def log_texts(self, cid):
        with self.state.lock:
            c = self.state.commands[cid]
            out = []
            for seq in sorted(c["chunks"]):
                for line in c["chunks"][seq].decode().splitlines():
                    out.append(json.loads(line)["t"])
            return out
