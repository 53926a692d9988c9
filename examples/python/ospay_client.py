#!/usr/bin/python3
"""Minimal ospay RPC client, built from proto/ospay/v1/*.proto alone.

Says Session/Hello with OSPAY_TOKEN, then pages through Admin/ListUnits and
prints the principal and the units, one "key=value" line each:

    OSPAY_ADDR=127.0.0.1:7000 OSPAY_TOKEN=... /usr/bin/python3 examples/python/ospay_client.py

With OSPAY_TLS=1 it speaks TLS (a server started with `ospayd serve --rpc-tls`),
trusting only OSPAY_CA (the server's var/data/tls.crt, or its CA) and checking the
certificate against OSPAY_TLS_NAME, else the host of OSPAY_ADDR.

Needs Debian's protobuf-compiler (protoc) and python3-protobuf. Any error prints
"error: CODE_NAME: message" on stderr and exits 1 (2 for bad usage).
"""

import glob
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_DIR = os.path.join(ROOT, "proto")
MAX_FRAME = 4 << 20  # the server's default frame limit
TIMEOUT_S = float(os.environ.get("OSPAY_TIMEOUT", "30"))

# gRPC status numbers (SPEC 3).
CODE_NAMES = {
    0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
    13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}


class SetupError(Exception):
    """A local problem (protoc, python3-protobuf, usage): exit 2."""


class RpcError(Exception):
    def __init__(self, code, message, violations=()):
        super().__init__(message)
        self.code = code
        self.message = message
        self.violations = list(violations)

    def __str__(self):
        s = "%s: %s" % (CODE_NAMES.get(self.code, "CODE_%d" % self.code), self.message)
        for v in self.violations:
            s += "\n  %s: %s" % (v.field, v.description)
        return s


def generate_modules(out_dir):
    """Runs protoc --python_out over proto/ospay/v1 and makes the result importable."""
    protoc = os.environ.get("PROTOC") or shutil.which("protoc", path="/usr/bin") or "protoc"
    protos = sorted(glob.glob(os.path.join(PROTO_DIR, "ospay", "v1", "*.proto")))
    if not protos:
        raise SetupError("no .proto files under %s" % PROTO_DIR)
    try:
        r = subprocess.run([protoc, "--python_out=" + out_dir, "-I", PROTO_DIR, *protos],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise SetupError("cannot run protoc: %s" % e)
    if r.returncode != 0:
        raise SetupError("protoc failed:\n" + r.stdout)
    sys.path.insert(0, out_dir)


def parse_addr(addr):
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SetupError("OSPAY_ADDR must be HOST:PORT, got %r" % addr)
    return host.strip("[]"), int(port)


def tls_context():
    """The TLS settings from the environment: None for plain TCP."""
    tls = os.environ.get("OSPAY_TLS", "")
    if tls in ("", "0"):
        return None
    if tls != "1":
        raise SetupError("OSPAY_TLS must be 1 or 0")
    ca = os.environ.get("OSPAY_CA")
    if not ca:
        raise SetupError("OSPAY_TLS=1 needs OSPAY_CA=<file>: the server's certificate or its CA")
    try:
        ctx = ssl.create_default_context(cafile=ca)
    except (OSError, ssl.SSLError) as e:
        raise SetupError("OSPAY_CA %s: %s" % (ca, e))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class Connection:
    """One TCP (or TLS) connection; one call at a time (the protocol allows more)."""

    def __init__(self, addr, rpc_pb2, tls=None):
        self.rpc = rpc_pb2
        self.next_id = 1
        host, port = parse_addr(addr)
        try:
            sock = socket.create_connection((host, port), timeout=TIMEOUT_S)
        except OSError as e:
            raise RpcError(14, "connect %s: %s" % (addr, e))
        if tls is not None:
            name = os.environ.get("OSPAY_TLS_NAME") or host
            try:
                sock = tls.wrap_socket(sock, server_hostname=name)
            except (OSError, ssl.SSLError) as e:
                sock.close()
                raise RpcError(14, "TLS handshake with %s failed: %s" % (addr, e))
        self.sock = sock

    def close(self):
        self.sock.close()

    def _read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                raise RpcError(4, "no reply within %gs" % TIMEOUT_S)
            except OSError as e:
                raise RpcError(14, "read: %s" % e)
            if not chunk:
                raise RpcError(14, "connection closed by the server")
            buf += chunk
        return bytes(buf)

    def call(self, method, request, response_type):
        req = self.rpc.RpcRequest(id=self.next_id, method=method,
                                  body=request.SerializeToString())
        self.next_id += 1
        frame = req.SerializeToString()
        try:
            self.sock.sendall(struct.pack(">I", len(frame)) + frame)
        except OSError as e:
            raise RpcError(14, "write: %s" % e)
        while True:
            (n,) = struct.unpack(">I", self._read_exact(4))
            if n > MAX_FRAME:
                raise RpcError(8, "reply frame of %d bytes exceeds %d" % (n, MAX_FRAME))
            resp = self.rpc.RpcResponse()
            try:
                resp.ParseFromString(self._read_exact(n))
            except Exception as e:  # google.protobuf.message.DecodeError
                raise RpcError(13, "undecodable reply: %s" % e)
            if resp.id == req.id:
                break
            # The server may answer an id 0 error to a frame it could not read.
            if resp.id == 0 and resp.status.code != 0:
                break
        if resp.status.code != 0:
            raise RpcError(resp.status.code, resp.status.message, resp.status.violations)
        out = response_type()
        try:
            out.ParseFromString(resp.body)
        except Exception as e:
            raise RpcError(13, "undecodable %s: %s" % (response_type.__name__, e))
        return out


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000)) if ms else "-"


def q(s):
    return json.dumps(s, ensure_ascii=False)


def run(addr, token):
    try:
        from ospay.v1 import admin_pb2, common_pb2, rpc_pb2, session_pb2
    except ImportError as e:
        raise SetupError("%s (needs python3-protobuf: run with /usr/bin/python3)" % e)

    def role_name(v):
        try:
            return common_pb2.Role.Name(v)
        except ValueError:
            return "ROLE_%d" % v

    conn = Connection(addr, rpc_pb2, tls_context())
    try:
        hello = conn.call("ospay.v1.Session/Hello", session_pb2.HelloRequest(token=token),
                          session_pb2.HelloResponse)
        org, tok = hello.principal.organization, hello.principal.token
        scope = "org-wide" if tok.org_wide else "units:" + ",".join(map(str, tok.unit_ids))
        print("server: version=%s time=%s" % (hello.server_version or "-",
                                              rfc3339(hello.server_time_ms)))
        print("principal: organization=%d name=%s token=%d token_name=%s role=%s scope=%s"
              % (org.id, q(org.name), tok.id, q(tok.name), role_name(tok.role), scope))

        units, page_token, seen = [], "", set()
        while True:
            page = conn.call("ospay.v1.Admin/ListUnits",
                             admin_pb2.ListUnitsRequest(page_size=100, page_token=page_token),
                             admin_pb2.ListUnitsResponse)
            units.extend(page.units)
            page_token = page.next_page_token
            if not page_token:
                break
            if page_token in seen:
                raise RpcError(13, "server repeated page token %r" % page_token)
            seen.add(page_token)
        for u in units:
            print("unit: id=%d organization=%d name=%s created=%s"
                  % (u.id, u.organization_id, q(u.name), rfc3339(u.created_ms)))
        print("units: %d" % len(units))
    finally:
        conn.close()


def reexec_with_system_python():
    """Another python may be first on PATH; Debian's python3-protobuf lives in /usr/bin/python3."""
    try:
        import google.protobuf  # noqa: F401
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
            os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    reexec_with_system_python()
    addr, token = os.environ.get("OSPAY_ADDR"), os.environ.get("OSPAY_TOKEN")
    if not addr or not token:
        print("usage: OSPAY_ADDR=HOST:PORT OSPAY_TOKEN=TOKEN %s" % sys.argv[0], file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ospay-py-") as gen:
        try:
            generate_modules(gen)
            run(addr, token)
        except SetupError as e:
            print("error: %s" % e, file=sys.stderr)
            return 2
        except RpcError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
