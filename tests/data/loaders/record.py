"""Re-record the raw ``collect()`` fixtures of every AWS loader from a moto server.

Run: ``.venv/bin/python tests/data/loaders/record.py`` (starts its own moto server). It builds
the organization of ``org_scenario.py`` and writes ``raw/<service>.json``: the raw dict each
loader's ``collect`` returned for the production and synthetic accounts, keyed by role. A few
hand-written additions (``raw/*_extra.json``) cover shapes moto does not produce.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                      MOTO_IAM_LOAD_MANAGED_POLICIES="false")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server._server.server_address  # noqa: SLF001 - moto exposes no public accessor
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    sys.path.insert(0, str(HERE))
    import boto3
    import org_scenario

    from iamreach.loaders.aws import SERVICES, service_module
    from iamreach.loaders.aws._common import Context

    ids = org_scenario.build()
    mgmt = boto3.Session(region_name=org_scenario.REGION)
    sessions = {"management": (ids["management"], mgmt),
                "production": (ids["production"], org_scenario._session(mgmt, ids["production"])),
                "synthetic": (ids["synthetic"], org_scenario._session(mgmt, ids["synthetic"]))}
    out = HERE / "raw"
    out.mkdir(exist_ok=True)
    for service in SERVICES:
        recorded = {}
        for role, (account, session) in sessions.items():
            if service == "organizations" and role != "management":
                continue
            ctx = Context(session=session, account=account, region=org_scenario.REGION)
            recorded[role] = {"account": account, "raw": service_module(service).collect(ctx),
                              "gaps": [g.to_dict() for g in ctx.gaps]}
        (out / f"{service}.json").write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    (out / "ids.json").write_text(json.dumps(ids, indent=1, sort_keys=True, default=str) + "\n")
    server.stop()


if __name__ == "__main__":
    main()
