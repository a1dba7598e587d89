#!/usr/bin/env bash
# The secret files deploy/compose.yaml mounts under /run/secrets, in deploy/secrets/ (0700, never committed):
#
#   postgres-password      a new random password for PostgreSQL's teamsretention role (read by uid 999, the
#                          postgres image's user)
#   database-url           postgresql+psycopg://teamsretention:<that password>@postgres:5432/teamsretention,
#                          for database.url_file (read by uid 10001, the teamsretention image's user)
#   graph-certificate.pem  a copy of the app's certificate with its private key (entra-app.sh made it), for
#                          graph.certificate_path (uid 10001)
#
# Each is mode 0400 and owned by the user that reads it: compose mounts the files as they are, and
# teamsretention refuses a secret file other users can read. Run it as root (sudo), since the files are given
# to those users. A file that exists is kept as it is, so running it again changes nothing (delete
# postgres-password and database-url together to start the database over with a new password). With rootless
# Docker, give the files to the users the container's uids map to instead.
#
#   sudo deploy/scripts/compose-secrets.sh --certificate ./teamsretention-graph.pem [--dir DIR] [--dry-run]
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

DIR="$HERE/../secrets" CERT="" APP_UID=10001 PG_UID=999
while (($#)); do
    case $1 in
        --certificate) CERT=${2:?--certificate needs the PEM file entra-app.sh wrote}; shift ;;
        --dir) DIR=${2:?--dir needs a directory}; shift ;;
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if [[ $DRY_RUN != 1 && $(id -u) != 0 ]]; then
    die "run it as root (sudo): the files are given to uid $PG_UID (postgres) and uid $APP_UID (teamsretention)"
fi
if [[ ! -e $DIR/graph-certificate.pem ]]; then
    [[ -n $CERT ]] || die "--certificate PATH is needed: the PEM file (private key and certificate) entra-app.sh wrote"
    [[ $DRY_RUN == 1 || -r $CERT ]] || die "cannot read $CERT"
fi

run install -d -m 0700 "$DIR"

if [[ -e $DIR/postgres-password ]]; then
    say "# kept: $DIR/postgres-password"
else
    say "+ (umask 077; head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9 >$DIR/postgres-password)"
    if [[ $DRY_RUN != 1 ]]; then
        (umask 077; head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9 >"$DIR/postgres-password")
    fi
    run chown "$PG_UID:$PG_UID" "$DIR/postgres-password"
    run chmod 0400 "$DIR/postgres-password"
fi

if [[ -e $DIR/database-url ]]; then
    say "# kept: $DIR/database-url"
else
    say "+ (umask 077; printf 'postgresql+psycopg://teamsretention:%s@postgres:5432/teamsretention\\n'" \
        "\"\$(cat $DIR/postgres-password)\" >$DIR/database-url)"
    if [[ $DRY_RUN != 1 ]]; then
        (umask 077; printf 'postgresql+psycopg://teamsretention:%s@postgres:5432/teamsretention\n' \
            "$(cat "$DIR/postgres-password")" >"$DIR/database-url")
    fi
    run chown "$APP_UID:$APP_UID" "$DIR/database-url"
    run chmod 0400 "$DIR/database-url"
fi

if [[ -e $DIR/graph-certificate.pem ]]; then
    say "# kept: $DIR/graph-certificate.pem"
else
    run install -m 0400 -o "$APP_UID" -g "$APP_UID" "$CERT" "$DIR/graph-certificate.pem"
fi
say "# then: docker compose -f deploy/compose.yaml up -d --build"
