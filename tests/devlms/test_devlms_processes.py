"""Several worker processes on one database file: one key pair, faults consumed exactly once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from lti_tool import devlms

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import json, sys
from flask import Flask
from lti_tool import devlms
app = Flask("worker", instance_path=sys.argv[2])
app.config.update(TOOL_BASE_URL="http://127.0.0.1:9", DEVLMS_DB_PATH=sys.argv[1])
devlms.init_app(app)
client = app.test_client()
kid = client.get("/dev/lms/jwks.json").get_json()["keys"][0]["kid"]
statuses = [client.post("/dev/lms/token", data={}).status_code for _ in range(5)]
print(json.dumps({"kid": kid, "statuses": statuses}))
"""


def test_workers_share_key_and_faults(tmp_path):
    db = str(tmp_path / "shared.sqlite3")
    app = Flask("parent", instance_path=str(tmp_path))
    app.config.update(TOOL_BASE_URL="http://127.0.0.1:9", DEVLMS_DB_PATH=db)
    devlms.init_app(app)
    assert app.test_client().post("/dev/lms/api/faults", json={"fail_next": 10, "status": 503, "target": "token"}).status_code == 200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, db, str(tmp_path)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert len({o["kid"] for o in outputs}) == 1
    statuses = [s for o in outputs for s in o["statuses"]]
    assert statuses.count(503) == 10 and statuses.count(400) == 10
    stats = app.test_client().get("/dev/lms/api/stats").get_json()
    assert stats["token_requests"] == 20 and stats["faults_injected"] == 10
