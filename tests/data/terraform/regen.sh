#!/usr/bin/env bash
# Regenerate the committed Terraform plan fixtures (CI never runs this: it needs terraform).
#
#   tests/data/terraform/regen.sh            # from the repository root or anywhere
#
# What it does:
#   1. starts a moto server (AWS emulator) on a free local port;
#   2. writes a Terraform CLI config whose provider_installation uses the offline mirror
#      /opt/tf-plugins (hashicorp/aws 5.100.0), so `terraform init` needs no network;
#   3. baseline/: plan from an empty state  -> baseline.plan.json, then applies it to moto;
#   4. change/:   the baseline's state + the edits under review -> change.plan.json;
#   5. down-converts change.plan.json to the old format "0.1" -> change.plan.v0.1.json
#      (see downconvert.py for which keys differ).
# The DB password is a planted secret (TF_VAR_db_password): tests check that it never reaches a
# snapshot or the console. The moto URL in the plans is rewritten to http://moto.invalid:5000.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
TF="${TERRAFORM:-terraform}"
WORK="$(mktemp -d)"
MOTO_PID=""
cleanup() { [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
MOTO_IAM_LOAD_MANAGED_POLICIES=false "$PY" -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.2
done

cat >"$WORK/terraformrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "/opt/tf-plugins"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_aws_endpoint="http://127.0.0.1:$PORT"
export TF_VAR_db_password="planted-db-password-3f9c"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1

cp -r "$HERE/baseline" "$HERE/change" "$WORK/"
"$PY" - "$WORK/lambda.zip" <<'PYZIP'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    info = zipfile.ZipInfo("index.py", date_time=(2020, 1, 1, 0, 0, 0))
    z.writestr(info, "def handler(event, context):\n    return {}\n")
PYZIP

tidy() {  # stable, readable JSON; no local port numbers
  "$PY" - "$1" "$2" "$PORT" <<'PYTIDY'
import json, sys
text = open(sys.argv[1]).read().replace(f"http://127.0.0.1:{sys.argv[3]}", "http://moto.invalid:5000")
with open(sys.argv[2], "w") as fh:
    json.dump(json.loads(text), fh, indent=1, sort_keys=True)
    fh.write("\n")
PYTIDY
}

cd "$WORK/baseline"
"$TF" init -input=false -no-color >/dev/null
"$TF" plan -input=false -no-color -out base.tfplan >/dev/null
"$TF" show -json base.tfplan >"$WORK/baseline.raw.json"
tidy "$WORK/baseline.raw.json" "$HERE/baseline.plan.json"
"$TF" apply -input=false -no-color -auto-approve base.tfplan >/dev/null

cp terraform.tfstate "$WORK/change/terraform.tfstate"
cd "$WORK/change"
"$TF" init -input=false -no-color >/dev/null
"$TF" plan -input=false -no-color -out change.tfplan >/dev/null
"$TF" show -json change.tfplan >"$WORK/change.raw.json"
tidy "$WORK/change.raw.json" "$HERE/change.plan.json"
"$PY" "$HERE/downconvert.py" "$HERE/change.plan.json" "$HERE/change.plan.v0.1.json"
"$TF" version -json >"$HERE/terraform-version.json"
echo "wrote baseline.plan.json, change.plan.json, change.plan.v0.1.json ($("$TF" version | head -1))"
