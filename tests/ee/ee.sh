#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The collection inside an execution environment (scripts/test ee):
#   1. a local base image (tests/ee/base.Containerfile on the lab's Debian 13 image), cached by a hash of its recipe;
#   2. the execution environment built by ansible-builder v3 from meta/ee/execution-environment.yml, with the
#      collection from the built tarball and community.crypto from the controller's `ansible` package instead of
#      Galaxy (unreachable here), cached by a hash of everything that goes into it;
#   3. an `ee-web` lab host serving HTTPS (tests/ee/web.py, certificate from a throw-away CA) on network port443-ee,
#      and the execution environment on the same network running playbooks/verify_https.yml through ansible-runner,
#      the way AWX runs a job template (project playbook importing port443.https.verify_https);
#   4. assertions: the job succeeded, the endpoint's status is ok, the report files were written, and the summary
#      reached the job's artifacts through set_stats (as docs/awx.md shows).
# Usage: tests/ee/ee.sh TARBALL   (from scripts/test, with the controller venv first on PATH)
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"

TARBALL=${1:?usage: tests/ee/ee.sh port443-https-X.Y.Z.tar.gz}
[ -f "$TARBALL" ] || die "no collection tarball at $TARBALL (run scripts/test build first)"
EE_WORK="$WORK/ee"
NET=port443-ee
LABELS=(--label port443.lab=1 --label port443.lab.scenario=ee)
LAB_IMAGE=port443-lab/debian:trixie
# The whole run, build included, may not hang: every docker command below has its own bound.
BUILD_TIMEOUT=${EE_BUILD_TIMEOUT:-1200}

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# Only what this script starts (fixed names, so leftovers of an interrupted run go too); the network stays while
# other ee-* lab hosts (tests/benchmarks/converged_rerun.py) use it. `tests/lab/lab.sh clean ee` removes everything.
cleanup() {
  docker rm -f ee-web ee-runner >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bash "$ROOT/tests/lab/lab.sh" up
docker image inspect "$LAB_IMAGE" >/dev/null 2>&1 || die "lab image $LAB_IMAGE missing (tests/lab/lab.sh images)"
cleanup

# --- ansible-builder in its own venv -------------------------------------------------------------------------------
BUILDER_VENV="$VENVS/venv-ee-builder"
make_venv "$BUILDER_VENV" "$(command -v python3)" "$ROOT/tests/ee/requirements.txt"
BUILDER="$BUILDER_VENV/bin/ansible-builder"

# --- 1. base image ------------------------------------------------------------------------------------------------
rm -rf "$EE_WORK"; mkdir -p "$EE_WORK/base/ca"
cp "$ROOT/tests/ee/base.Containerfile" "$EE_WORK/base/Containerfile"
# The machine's own added CA certificates (none on most machines: then the directory stays empty).
find /usr/local/share/ca-certificates -maxdepth 1 -name '*.crt' -exec cp {} "$EE_WORK/base/ca/" \; 2>/dev/null || true
touch "$EE_WORK/base/ca/.keep"
BASE_TAG="port443-ee/base:$( (docker image inspect -f '{{.Id}}' "$LAB_IMAGE"; cat "$EE_WORK/base/Containerfile" "$EE_WORK"/base/ca/*) | sha256sum | cut -c1-16)"
if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
  echo "base image $BASE_TAG cached"
else
  say "building the base image $BASE_TAG"
  timeout "$BUILD_TIMEOUT" docker build -q --build-arg "LAB_IMAGE=$LAB_IMAGE" -f "$EE_WORK/base/Containerfile" -t "$BASE_TAG" "$EE_WORK/base"
fi

# --- 2. the execution environment ---------------------------------------------------------------------------------
mkdir -p "$EE_WORK/collections"
cp "$TARBALL" "$EE_WORK/collections/"
# community.crypto as the controller's `ansible` package ships it, packed as a collection artifact. The package leaves
# out a few files its FILES.json lists (CI configuration): those entries are dropped, every other file keeps its
# published checksum, which ansible-galaxy checks while installing.
CRYPTO_DIR=$(python -c 'import ansible_collections.community.crypto as c; print(list(c.__path__)[0])')
CRYPTO_VERSION=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$CRYPTO_DIR/MANIFEST.json")
python - "$CRYPTO_DIR" "$EE_WORK/collections/community-crypto-$CRYPTO_VERSION.tar.gz" <<'PY'
import hashlib, io, json, os, sys, tarfile
src, dest = sys.argv[1:]
files = json.load(open(os.path.join(src, "FILES.json")))
files["files"] = [f for f in files["files"] if f["name"] == "." or os.path.lexists(os.path.join(src, f["name"]))]
files_json = json.dumps(files, indent=4).encode()
manifest = json.load(open(os.path.join(src, "MANIFEST.json")))
manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
with tarfile.open(dest, "w:gz") as tar:
    for name, data in (("MANIFEST.json", json.dumps(manifest, indent=4).encode()), ("FILES.json", files_json)):
        info = tarfile.TarInfo(name); info.size = len(data); info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    for f in files["files"]:
        if f["name"] != ".":
            tar.add(os.path.join(src, f["name"]), arcname=f["name"], recursive=False)
PY
TARBALL_NAME=$(basename "$TARBALL")
# What goes into the image: the definition and requirement files, the collection's content (its FILES.json lists every
# file's checksum, unlike the tarball whose bytes change with each build), community.crypto's version, the builder.
tar -xzf "$TARBALL" -C "$EE_WORK" FILES.json
EE_TAG="port443-ee/ee:$( (echo "$BASE_TAG $CRYPTO_VERSION $TARBALL_NAME"; cat "$ROOT"/meta/ee/* "$ROOT"/meta/ee-*.txt \
  "$EE_WORK/FILES.json" "$ROOT/tests/ee/requirements.txt")  | sha256sum | cut -c1-16)"

# The shipped definition as it is: schema and file references valid (a build context is written, nothing built).
"$BUILDER" create -f "$ROOT/meta/ee/execution-environment.yml" -c "$EE_WORK/shipped-context" >/dev/null \
  || die "ansible-builder rejects meta/ee/execution-environment.yml"
for f in requirements.txt bindep.txt requirements.yml; do
  [ -s "$EE_WORK/shipped-context/_build/$f" ] || die "meta/ee/execution-environment.yml: ansible-builder did not pick up $f"
done

# The shipped definition, changed only where this machine differs from a user's: the local base image, and the
# collections from local artifacts (ansible-galaxy --offline) instead of Galaxy. Everything else is used verbatim.
python - "$ROOT/meta/ee/execution-environment.yml" "$EE_WORK/execution-environment.yml" "$BASE_TAG" "$EE_TAG" \
  "$EE_WORK/collections" "$TARBALL_NAME" "community-crypto-$CRYPTO_VERSION.tar.gz" <<'PY'
import os, sys, yaml
src, dest, base, tag, coll_dir, *artifacts = sys.argv[1:]
ee = yaml.safe_load(open(src))
here = os.path.dirname(src)
deps = ee["dependencies"]
for key in ("python", "system"):
    deps[key] = os.path.normpath(os.path.join(here, deps[key]))
shipped = yaml.safe_load(open(os.path.join(here, deps["galaxy"])))["collections"]
wanted = {c["name"] for c in shipped}
if wanted != {"port443.https", "community.crypto"}:
    sys.exit(f"meta/ee/requirements.yml lists {sorted(wanted)}: tests/ee/ee.sh supplies port443.https and community.crypto only")
reqs = os.path.join(os.path.dirname(dest), "requirements.yml")
yaml.safe_dump({"collections": [{"name": "/build/collections/" + a, "type": "file"} for a in artifacts]}, open(reqs, "w"))
deps["galaxy"] = reqs
ee["images"]["base_image"]["name"] = base
ee["options"]["tags"] = [tag]
ee.setdefault("build_arg_defaults", {})["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] = "--offline"
ee.setdefault("additional_build_files", []).append({"src": os.path.relpath(coll_dir, os.path.dirname(dest)) + "/*.tar.gz", "dest": "collections"})
ee.setdefault("additional_build_steps", {}).setdefault("prepend_galaxy", []).insert(
    0, "COPY _build/collections/ /build/collections/")
yaml.safe_dump(ee, open(dest, "w"), sort_keys=False)
PY

if docker image inspect "$EE_TAG" >/dev/null 2>&1; then
  echo "execution environment $EE_TAG cached"
else
  say "ansible-builder build $EE_TAG"
  (cd "$EE_WORK" && timeout "$BUILD_TIMEOUT" "$BUILDER" build -f execution-environment.yml -c context \
      --container-runtime docker -t "$EE_TAG" -v 3) >"$EE_WORK/build.log" 2>&1 \
    || { tail -n 60 "$EE_WORK/build.log" >&2; die "ansible-builder build failed (log: $EE_WORK/build.log)"; }
  tail -n 3 "$EE_WORK/build.log"
  # Earlier builds of this stage (other hashes) are superseded: drop their tags, the layers they share stay.
  docker image ls --format '{{.Repository}}:{{.Tag}}' port443-ee/ee | grep -vxF "$EE_TAG" | xargs -r docker rmi >/dev/null || true
fi
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$EE_TAG"
# What the image holds, from inside it.
timeout 120 docker run --rm "$EE_TAG" bash -c \
  'ansible --version | head -n1; ansible-runner --version; ansible-galaxy collection list port443.https 2>/dev/null | tail -n1;
   ansible-galaxy collection list community.crypto 2>/dev/null | tail -n1; openssl version; python3 -c "import cryptography; print(\"cryptography\", cryptography.__version__)"'

# --- 3. a lab host serving HTTPS, and the job ---------------------------------------------------------------------
PKI="$EE_WORK/pki"; mkdir -p "$PKI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=port443 EE test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$PKI/ca.key" -out "$PKI/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ee-web" \
  -keyout "$PKI/web.key" -out "$PKI/web.csr" 2>/dev/null
printf 'subjectAltName=DNS:ee-web\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$PKI/ext.cnf"
openssl x509 -req -in "$PKI/web.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial -days 90 \
  -extfile "$PKI/ext.cnf" -out "$PKI/web.pem" 2>/dev/null
chmod 0644 "$PKI"/*

docker network inspect "$NET" >/dev/null 2>&1 || docker network create "${LABELS[@]}" "$NET" >/dev/null
# HTTPS with HSTS and a 200 on /, the 80 -> 443 redirect (tests/ee/web.py): every default check of the probe passes.
cp "$ROOT/tests/ee/web.py" "$PKI/web.py"
docker run -d --name ee-web --hostname ee-web --network "$NET" "${LABELS[@]}" -v "$PKI:/pki:ro" "$LAB_IMAGE" \
  python3 /pki/web.py >/dev/null

# An AWX-style private data directory: the project's playbook imports the collection's playbook by FQCN (job
# templates list the playbooks of a project, not those of collections), the inventory, and the job's extra variables.
JOB="$EE_WORK/job"
mkdir -p "$JOB/project" "$JOB/inventory" "$JOB/env"
# The project playbook is the one docs/awx.md shows, set_stats play included (AWX keeps that data with the job).
cat >"$JOB/project/verify.yml" <<'EOF'
---
- name: Verify HTTPS (port443.https.verify_https)
  ansible.builtin.import_playbook: port443.https.verify_https

- name: Keep the report summary with the job
  hosts: "{{ verify_https_hosts | default('all') }}"
  gather_facts: false
  tasks:
    - name: Publish the summary as job artifacts
      ansible.builtin.set_stats:
        data:
          https_report_status: "{{ verify_https_report.status }}"
          https_report_summary: "{{ verify_https_report.summary }}"
          https_report_markdown: "{{ verify_https_report.markdown }}"
      run_once: true
EOF
printf 'ee-web\n' >"$JOB/inventory/hosts"
cp "$PKI/ca.pem" "$JOB/project/ca.pem"
cat >"$JOB/env/extravars" <<'EOF'
---
verify_https_ca_path: /runner/project/ca.pem
verify_https_report_dir: /runner/artifacts/https-report
verify_https_timeout: 5
EOF
# The image runs as an unprivileged user (uid 1000), as in AWX: the job directory must be writable for it.
chmod -R a+rwX "$JOB"

# The server takes a moment to listen: wait for it, bounded.
for _ in $(seq 1 20); do
  docker exec ee-web bash -c 'exec 3<>/dev/tcp/127.0.0.1/443' 2>/dev/null && break
  sleep 0.5
done

say "ansible-runner in the execution environment: verify_https against ee-web"
t0=$(date +%s.%N)
rc=0
timeout 300 docker run --rm --name ee-runner --network "$NET" "${LABELS[@]}" -v "$JOB:/runner" "$EE_TAG" \
  ansible-runner run /runner -p verify.yml --ident verify || rc=$?
t1=$(date +%s.%N)

# --- 4. assertions ------------------------------------------------------------------------------------------------
python - "$JOB" "$rc" <<'PY'
import json, os, sys
job, rc = sys.argv[1], int(sys.argv[2])
art = os.path.join(job, "artifacts", "verify")
def read(name):
    with open(os.path.join(art, name)) as f:
        return f.read().strip()
errors = []
if rc != 0:
    errors.append(f"ansible-runner exited {rc}")
status = read("status") if os.path.exists(os.path.join(art, "status")) else "missing"
if status != "successful":
    errors.append(f"job status {status!r}, expected 'successful'")
report_dir = os.path.join(job, "artifacts", "https-report")
for name in ("report.json", "report.html", "junit.xml", "https_report.prom", "report.md"):
    if not os.path.isfile(os.path.join(report_dir, name)):
        errors.append(f"report file {name} missing in {report_dir}")
try:
    report = json.load(open(os.path.join(report_dir, "report.json")))
    eps = report["endpoints"]
    found = [(e.get("host"), e.get("port"), e.get("status"), [r.get("code") for r in e.get("reasons", [])]) for e in eps]
    print("endpoints in report.json:", found)
    if [(h, p, s) for h, p, s, _ in found] != [("ee-web", 443, "ok")]:
        errors.append(f"expected exactly ee-web:443 with status ok, report.json has {found}")
except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
    errors.append(f"report.json unreadable: {exc}")
# The set_stats data, as AWX receives it: the artifact_data of the job's playbook_on_stats event.
stats = {}
events = os.path.join(art, "job_events")
for name in sorted(os.listdir(events)) if os.path.isdir(events) else []:
    with open(os.path.join(events, name)) as f:
        event = json.load(f)
    if event.get("event") == "playbook_on_stats":
        stats = event.get("event_data", {}).get("artifact_data") or {}
print("set_stats artifacts:", {k: stats[k] for k in ("https_report_status", "https_report_summary") if k in stats})
if stats.get("https_report_status") != "ok" or (stats.get("https_report_summary") or {}).get("total") != 1:
    errors.append(f"set_stats artifact data: expected status ok and 1 endpoint, got {stats!r}")
if errors:
    sys.exit("EE run FAILED:\n  " + "\n  ".join(errors))
print("EE run: job successful, ee-web:443 ok, 5 report files written, set_stats artifacts published")
PY
python -c "import sys; print(f\"ee: the verify_https job inside the execution environment took {float(sys.argv[2]) - float(sys.argv[1]):.1f} s\")" "$t0" "$t1"
