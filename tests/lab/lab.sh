#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The port443.https test lab: a local Docker engine and Debian base images that run systemd as PID 1.
#
#   tests/lab/lab.sh up        install the engine if missing, start it if none answers, build missing images
#   tests/lab/lab.sh engine    only make sure an engine answers
#   tests/lab/lab.sh images    only build the missing base images
#   tests/lab/lab.sh clean [S] remove every lab container and network (label port443.lab), or scenario S's
#   tests/lab/lab.sh stop      clean, then stop the dockerd this script started (by its PID file)
#   tests/lab/lab.sh status    what is running
#
# No registry is needed: images are made with debootstrap from the mirror the host's own apt uses.
set -euo pipefail

LAB_SUITES=${LAB_SUITES:-"bookworm trixie"}
LAB_IMAGE_PREFIX=${LAB_IMAGE_PREFIX:-port443-lab}
LAB_STATE_DIR=${LAB_STATE_DIR:-/var/lib/port443-lab}
LAB_DOCKERD_PIDFILE=${LAB_DOCKERD_PIDFILE:-/run/port443-lab-dockerd.pid}
LAB_DOCKERD_LOG=${LAB_DOCKERD_LOG:-/var/log/port443-lab-dockerd.log}
# The image bump: change it when the recipe below changes, so cached images are rebuilt.
LAB_IMAGE_REVISION=3

log() { printf '[lab %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "the lab needs root (docker engine, debootstrap)"; }

apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt install ${missing[*]}"
  # An apt-get update that fails on one list is not fatal when the packages are still found.
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# systemd as PID 1 takes several inotify instances per container, all counted against root: the kernel's default of
# 128 stops the seventh or so systemd container of a run ("Failed to allocate manager object: Too many open files",
# container exits 255) when scenarios run side by side. Raised, never lowered.
raise_inotify_limit() {
  local want=1024 have
  have=$(sysctl -n fs.inotify.max_user_instances 2>/dev/null || echo "$want")
  if [ "$have" -lt "$want" ]; then
    log "fs.inotify.max_user_instances $have -> $want (systemd containers)"
    sysctl -qw fs.inotify.max_user_instances="$want" || log "could not raise fs.inotify.max_user_instances"
  fi
}

cmd_engine() {
  need_root
  raise_inotify_limit
  if command -v docker >/dev/null && engine_answers; then
    log "docker engine already answers"; return 0
  fi
  command -v dockerd >/dev/null || apt_install docker.io containerd runc iptables
  apt_install docker.io iptables
  if engine_answers; then return 0; fi
  log "starting dockerd (pid file $LAB_DOCKERD_PIDFILE, log $LAB_DOCKERD_LOG)"
  rm -f "$LAB_DOCKERD_PIDFILE"
  nohup dockerd --storage-driver=overlay2 --pidfile "$LAB_DOCKERD_PIDFILE" >"$LAB_DOCKERD_LOG" 2>&1 &
  local i
  for i in $(seq 1 60); do
    engine_answers && { log "dockerd answers after ${i}s"; return 0; }
    sleep 1
  done
  tail -n 30 "$LAB_DOCKERD_LOG" >&2 || true
  die "dockerd did not answer within 60 s (log: $LAB_DOCKERD_LOG)"
}

# The mirror the host's own apt uses (deb822 or one-line sources), never a hard-coded host name.
host_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$m" ]; then
    m=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | grep -v security | awk '{for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | head -n1)
  fi
  [ -n "$m" ] || die "cannot find the Debian mirror in the host's apt sources"
  printf '%s\n' "$m"
}

host_suite() { . /etc/os-release; printf '%s\n' "${VERSION_CODENAME:-bookworm}"; }

image_tag() { printf '%s/debian:%s-r%s\n' "$LAB_IMAGE_PREFIX" "$1" "$LAB_IMAGE_REVISION"; }

build_image() {
  local suite=$1 tag mirror root host
  tag=$(image_tag "$suite")
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "image $tag cached"; return 0
  fi
  apt_install debootstrap
  mirror=$(host_mirror); host=$(host_suite)
  root="$LAB_STATE_DIR/rootfs-$suite"
  rm -rf "$root"; mkdir -p "$root"
  log "debootstrap $suite (minbase) into $root"
  debootstrap --variant=minbase \
    --include=python3,python3-apt,systemd,systemd-sysv,dbus,iproute2,sudo,ca-certificates,procps,netbase,openssl \
    "$suite" "$root" "$mirror" >"$LAB_STATE_DIR/debootstrap-$suite.log" 2>&1 \
    || { tail -n 30 "$LAB_STATE_DIR/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
  # apt sources: the host's own, with its suite name replaced by this one.
  rm -f "$root/etc/apt/sources.list"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed "s/\b$host\b/$suite/g" /etc/apt/sources.list.d/debian.sources >"$root/etc/apt/sources.list.d/debian.sources"
  else
    sed "s/\b$host\b/$suite/g" /etc/apt/sources.list >"$root/etc/apt/sources.list"
  fi
  # The host's apt settings for its package registry, when it has them.
  if [ -f /etc/apt/apt.conf.d/99artifact-registry ]; then
    cp /etc/apt/apt.conf.d/99artifact-registry "$root/etc/apt/apt.conf.d/"
  fi
  # Containers have no consoles, udev, fuse or hugepages: mask what cannot start.
  for u in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
           systemd-remount-fs.service dev-hugepages.mount sys-fs-fuse-connections.mount \
           systemd-logind.service systemd-firstboot.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
  done
  # Smaller, quicker apt in the lab: no docs, no recommends.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90port443-lab"
  printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
    >"$root/etc/dpkg/dpkg.cfg.d/90port443-lab"
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  # An empty list directory with an old mtime: apt's cache_valid_time must not think it is fresh.
  touch -d @0 "$root/var/lib/apt/lists"
  log "docker import $tag"
  tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
  docker tag "$tag" "$LAB_IMAGE_PREFIX/debian:$suite"
  rm -rf "$root"
  log "image $tag built"
}

cmd_images() {
  need_root
  mkdir -p "$LAB_STATE_DIR"
  local s
  for s in $LAB_SUITES; do
    build_image "$s"
    # The stable tag always points to the current revision.
    docker tag "$(image_tag "$s")" "$LAB_IMAGE_PREFIX/debian:$s"
  done
}

cmd_clean() {
  # clean [SCENARIO]: every lab container/network, or only those of one Molecule scenario.
  engine_answers || return 0
  local filter=label=port443.lab
  local -a ids
  [ -z "${1:-}" ] || filter="label=port443.lab.scenario=$1"
  # Bounded: a wedged engine must not hang the caller (a test run cleans up between scenarios).
  mapfile -t ids < <(timeout 60 docker ps -aq --filter "$filter" 2>/dev/null || true)
  [ ${#ids[@]} -eq 0 ] || { log "removing lab containers ($filter)"; timeout 120 docker rm -f "${ids[@]}" >/dev/null || true; }
  mapfile -t ids < <(timeout 60 docker network ls -q --filter "$filter" 2>/dev/null || true)
  [ ${#ids[@]} -eq 0 ] || { log "removing lab networks ($filter)"; timeout 60 docker network rm "${ids[@]}" >/dev/null || true; }
}

cmd_stop() {
  cmd_clean
  if [ -f "$LAB_DOCKERD_PIDFILE" ]; then
    local pid; pid=$(cat "$LAB_DOCKERD_PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping dockerd $pid"; kill "$pid"
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$LAB_DOCKERD_PIDFILE"
  else
    log "no dockerd started by the lab (no $LAB_DOCKERD_PIDFILE): left alone"
  fi
}

cmd_status() {
  if engine_answers; then
    docker version --format 'engine {{.Server.Version}}' || true
    docker images --filter "reference=$LAB_IMAGE_PREFIX/*" --format '{{.Repository}}:{{.Tag}} {{.Size}}'
    docker ps -a --filter label=port443.lab --format '{{.Names}} {{.Status}}'
  else
    echo "engine not answering"
  fi
}

case "${1:-up}" in
  up) cmd_engine; cmd_images ;;
  engine) cmd_engine ;;
  images) cmd_engine; cmd_images ;;
  clean) cmd_clean "${2:-}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) die "usage: $0 up|engine|images|clean|stop|status" ;;
esac
