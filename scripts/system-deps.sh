#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to (Dovecot, Chromium, docker-compose for
# `config -q`), only when one is missing, so a warm machine pays nothing.
set -euo pipefail

needed=()
command -v chromium >/dev/null || needed+=(chromium)
command -v dovecot >/dev/null || needed+=(dovecot-imapd dovecot-pop3d)
[ -x /usr/lib/dovecot/pop3 ] || needed+=(dovecot-pop3d)
[ -x /usr/lib/dovecot/imap ] || needed+=(dovecot-imapd)
command -v docker-compose >/dev/null || needed+=(docker-compose)

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "system-deps: need root or sudo to install: ${needed[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "system-deps: installing ${needed[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
