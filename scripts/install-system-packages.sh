#!/usr/bin/env bash
# The Debian packages the project needs: ffmpeg (the recording pipeline and its tests),
# chromium (the docs browser test, driven by playwright-core) and a CJK font so the Chinese docs
# render, and PostgreSQL (the fleet's shared database; the tests start throwaway servers of it).
# Skips the install when everything is already there.
set -euo pipefail
packages=(ffmpeg chromium fonts-wqy-zenhei fonts-dejavu-core postgresql)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present (${packages[*]})"; exit 0; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "system packages: installing ${missing[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
