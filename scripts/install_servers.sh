#!/usr/bin/env bash
# Install the MariaDB and PostgreSQL server binaries the tests need, if they are missing.
# Idempotent. System services are not started: the tests start their own throwaway
# servers (tests/servers.py).
set -euo pipefail

have_mariadb() {
    PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v mariadbd >/dev/null &&
        command -v mariadb-install-db >/dev/null
}

have_postgresql() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

packages=()
have_mariadb || packages+=(mariadb-server)
have_postgresql || packages+=(postgresql)

if [ ${#packages[@]} -eq 0 ]; then
    echo "MariaDB and PostgreSQL server binaries are installed."
    exit 0
fi

echo "Installing ${packages[*]} ..."
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "error: need root (or sudo) to install ${packages[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

# Keep the packages' maintainer scripts from starting the system services: policy-rc.d
# exiting 101 means "action forbidden", which invoke-rc.d treats as a success.
# An existing policy-rc.d (as in Docker images) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi

"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${packages[@]}"

have_mariadb || { echo "error: mariadbd/mariadb-install-db still missing" >&2; exit 1; }
have_postgresql || { echo "error: PostgreSQL initdb still missing" >&2; exit 1; }
echo "Installed ${packages[*]}."
