#!/usr/bin/env bash
# Installs the system tools the tests use when they are missing, with Debian's
# apt-get (as root). Called by `make test`, `make run` and `.ci/run`; nothing is
# installed by hand.
#   dcmdump  (dcmtk)    reference for the dump agreement test
#   chromium (chromium) the browser the real-browser test drives
#   Orthanc  (orthanc, orthanc-dicomweb) the PACS the send tests start
#            (tests/tbp_core/sharing/conftest.py); the plugin has no command,
#            so its library file is what is looked for
# With --optional (make run: the app itself needs none of them) a non-root
# user gets a warning instead of a failure.
set -euo pipefail
optional=false
[ "${1:-}" = "--optional" ] && optional=true

missing=()
command -v dcmdump >/dev/null 2>&1 || missing+=(dcmtk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || missing+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || missing+=(orthanc-dicomweb)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: missing ${missing[*]} (used by the tests); run as root or: sudo apt-get install -y ${missing[*]}" >&2
    $optional && exit 0
    exit 1
fi
echo "system-deps: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
