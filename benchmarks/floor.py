"""The floor pipeline for the users stream: what any tap must at least do.

Fetches every ``users.list`` page with ``requests`` (same session reuse, same page size and
arguments as the tap), parses it with ``json.loads`` and writes one Singer RECORD line per
member with ``json.dumps`` to stdout. No token rotation: the access token is obtained once,
outside the timed part, from the config's refresh token.

Usage: ``python benchmarks/floor.py CONFIG.json`` (stdout: Singer lines). With
``FLOOR_FETCH_ONLY=1`` it only downloads the pages (the cursor is read with a regular
expression), which measures what the emulator and HTTP cost on their own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import time

import requests


def main() -> int:
    """Run the floor pipeline; prints the elapsed seconds and records on stderr."""
    config = json.loads(open(sys.argv[1], encoding="utf-8").read())  # noqa: SIM115
    api = config["api_url"].rstrip("/")
    session = requests.Session()
    token = session.post(
        api + "/oauth.v2.access",
        data={"grant_type": "refresh_token", "refresh_token": config["refresh_token"]},
        auth=(config["client_id"], config["client_secret"]),
        timeout=60,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    out = sys.stdout
    write = out.write
    dumps = json.dumps
    started = time.perf_counter()
    params = {"limit": 1000, "include_locale": "true"}
    if config.get("team_id"):
        params["team_id"] = config["team_id"]
    records = 0
    if os.environ.get("FLOOR_FETCH_ONLY"):
        while True:
            content = session.get(
                api + "/users.list", params=params, headers=headers, timeout=60
            ).content
            found = re.search(rb'"next_cursor":"([^"]*)"', content[-400:])
            if not found or not found.group(1):
                break
            params["cursor"] = found.group(1).decode()
        return 0
    write(dumps({"type": "SCHEMA", "stream": "users", "schema": {}, "key_properties": ["id"]}))
    write("\n")
    while True:
        response = session.get(api + "/users.list", params=params, headers=headers, timeout=60)
        payload = json.loads(response.content)
        extracted = dt.datetime.now(dt.timezone.utc).isoformat()
        for member in payload["members"]:
            write(
                dumps(
                    {
                        "type": "RECORD",
                        "stream": "users",
                        "record": member,
                        "time_extracted": extracted,
                    }
                )
            )
            write("\n")
            records += 1
        cursor = (payload.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
        params["cursor"] = cursor
    out.flush()
    print(
        json.dumps({"seconds": time.perf_counter() - started, "records": records}),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
