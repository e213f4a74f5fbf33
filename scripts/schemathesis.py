"""Runs schemathesis against every service of a private platform.

Starts a redis-server and `polystatus up` on free loopback ports, validates every served and
committed OpenAPI document, then runs schemathesis with every check, the examples, coverage,
fuzzing and stateful phases, authenticated as an admin, against each service in turn. Exits
non-zero on any failure. Outbound HTTP from the platform goes to a closed loopback proxy, so
URLs that fuzzing registers (webhooks, provider feeds) are never reached.

Usage: scripts/schemathesis [--service NAME] [--max-time SECONDS] [--binary PATH]
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Users last: its fuzzing may revoke the API key the other services exchange for their tokens,
# after which they rightly answer 503 for anything that needs a peer.
SERVICES = ["incidents", "comms", "csp-ingestor", "flags", "users"]
ENV_PREFIX = {"users": "USERS", "incidents": "INCIDENTS", "comms": "COMMS", "csp-ingestor": "CSP", "flags": "FLAGS"}

# Operations that cannot be called without a third party's signature: Slack signs its requests
# with the app's signing secret, GitHub and GitLab sign (or carry a token on) their webhooks.
# The services' own tests drive them with real signatures (comms/tests/api/chatops.rs, ci.rs).
SIGNED_BY_THIRD_PARTIES = {
    "comms": ["/api/v1/chatops/slack/commands", "/api/v1/chatops/slack/events", "/api/v1/ci/hooks/{name}"],
}

ADMIN_EMAIL = "admin@schemathesis.test"
ADMIN_PASSWORD = "schemathesis runs the whole contract"


def free_port() -> int:
    """A free port below the kernel's ephemeral range, so no outgoing connection takes it."""
    while True:
        port = random.randint(20000, 30000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def request(url, body=None, token=None, timeout=10.0):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def wait_until_ready(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the platform exited early with code {process.returncode}")
        try:
            request(url, timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.3)
    sys.exit(f"{url} did not answer within {seconds:.0f} s")


def validate_documents(ports: dict) -> list:
    """Every served document and every committed one, through openapi-spec-validator."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    problems = []
    for service, port in ports.items():
        try:
            validate(request(f"http://127.0.0.1:{port}/openapi.json"))
        except Exception as e:  # noqa: BLE001 - any refusal is reported with its service
            problems.append(f"served {service} document: {e}")
    for file in sorted((ROOT / "swaggers").glob("*.yaml")):
        try:
            document, _ = read_from_filename(str(file))
            validate(document)
        except Exception as e:  # noqa: BLE001
            problems.append(f"swaggers/{file.name}: {e}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", action="append", choices=SERVICES, help="only these services")
    parser.add_argument("--max-time", type=int, default=int(os.environ.get("SCHEMATHESIS_MAX_TIME", "60")),
                        help="seconds of fuzzing and stateful testing per service (default 60)")
    parser.add_argument("--binary", default=str(ROOT / "target" / "debug" / "polystatus"))
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    services = args.service or SERVICES

    work = Path(tempfile.mkdtemp(prefix="polystatus-schemathesis-"))
    redis_port = free_port()
    ports = {service: free_port() for service in SERVICES}
    ui_port = free_port()
    closed_proxy = f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ)
    env.update({
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}",
        "POLYSTATUS_ADMIN_EMAIL": ADMIN_EMAIL,
        "POLYSTATUS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "FRONTEND__SERVER__PORT": str(ui_port),
        "LOG_FORMAT": "json",
        "RUST_LOG": "warn",
        # Nothing the fuzzer registers is ever fetched: every non-loopback request goes to a
        # proxy that is not there.
        "HTTP_PROXY": closed_proxy, "HTTPS_PROXY": closed_proxy, "ALL_PROXY": closed_proxy,
        "http_proxy": closed_proxy, "https_proxy": closed_proxy,
        "NO_PROXY": "127.0.0.1,localhost,::1", "no_proxy": "127.0.0.1,localhost,::1",
    })
    for service, port in ports.items():
        env[f"{ENV_PREFIX[service]}__SERVER__PORT"] = str(port)

    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    log = open(work / "platform.log", "wb")
    platform = None
    failed = []
    try:
        # The platform would start a Redis of its own on that port if this one were not up yet.
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("redis-server did not start")
                time.sleep(0.1)
        platform = subprocess.Popen([args.binary, "up", "--data-dir", str(work / "data")], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, cwd=ROOT)
        for service, port in ports.items():
            wait_until_ready(f"http://127.0.0.1:{port}/health/ready", platform, 120)
        print("==> validating the OpenAPI documents (served and committed)", flush=True)
        failed += validate_documents(ports)
        token = request(f"http://127.0.0.1:{ports['users']}/api/v1/auth/login",
                        {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
        st = Path(sys.executable).parent / "schemathesis"
        for service in services:
            print(f"==> schemathesis: {service}", flush=True)
            command = [
                str(st), "--config-file", str(ROOT / "scripts" / "schemathesis.toml"),
                "run", f"http://127.0.0.1:{ports[service]}/openapi.json",
                "--checks", "all",
                "--phases", "examples,coverage,fuzzing,stateful",
                "--max-time", str(args.max_time),
                "--header", f"Authorization: Bearer {token}",
                "--request-timeout", "10",
                # One worker: two trip a race in Hypothesis's lambda-source cache (a KeyError
                # reported as a flaky failure), and the platform shares the same two cores anyway.
                "--workers", "1",
                "--no-color",
                "--report", "junit", "--report-dir", str(work / "reports" / service),
            ]
            if args.seed is not None:
                command += ["--seed", str(args.seed)]
            for path in SIGNED_BY_THIRD_PARTIES.get(service, []):
                # Each of these paths serves POST alone.
                command += ["--exclude-path", path]
            if subprocess.run(command, cwd=work).returncode != 0:
                failed.append(f"schemathesis found failures in {service}")
    finally:
        if platform is not None:
            platform.send_signal(signal.SIGTERM)
            try:
                platform.wait(timeout=20)
            except subprocess.TimeoutExpired:
                platform.kill()
        redis.terminate()
        redis.wait()
        log.close()
    if failed:
        print("\n".join(["", "schemathesis run failed:", *failed]), file=sys.stderr)
        print(f"the platform's log and the reports are in {work}", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("schemathesis: every service conforms to its document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
