#!/usr/bin/env bash
# Sites.Selected: grant the app one role on the one SharePoint site that holds the lists ([lists] site), with
# Microsoft Graph (POST /sites/{site-id}/permissions), as README.md "Least privilege for the lists" says.
#
# Run it signed in with `az login` as a SharePoint administrator (the call needs Sites.FullControl.All).
# Running it again changes nothing when the app already has the role on the site; a grant with another role is
# changed to the one asked for (PATCH), so `--role fullcontrol` for a `provision` run and `--role write`
# afterwards move the one grant up and back down.
#
#   deploy/scripts/grant-site.sh --client-id <client-id> --site https://contoso.sharepoint.com/sites/records
#
#   --client-id ID     the app registration's application (client) id (entra-app.sh prints it)
#   --site URL         the lists' site, as in lists.site: https://host/sites/path or host:/sites/path
#   --role ROLE        write (default: what the daily cycle needs), or read, manage, fullcontrol
#   --name NAME        display name recorded with the grant (default: teamsretention)
#   --graph URL        Microsoft Graph for a national cloud (default https://graph.microsoft.com)
#   --dry-run          print the commands, run none
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

CLIENT_ID="" SITE="" ROLE=write NAME=teamsretention GRAPH=https://graph.microsoft.com
while (($#)); do
    case $1 in
        --client-id) CLIENT_ID=${2:?--client-id needs the application id}; shift ;;
        --site) SITE=${2:?--site needs the site URL}; shift ;;
        --role) ROLE=${2:?--role needs read, write, manage or fullcontrol}; shift ;;
        --name) NAME=${2:?--name needs a display name}; shift ;;
        --graph) GRAPH=${2:?--graph needs a URL}; shift ;;
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
[[ -n $CLIENT_ID ]] || die "--client-id is required (the app's application id)"
[[ -n $SITE ]] || die "--site is required (the lists' site, as in lists.site)"
case $ROLE in read|write|manage|fullcontrol) ;; *) die "--role $ROLE: use read, write, manage or fullcontrol" ;; esac
if [[ $DRY_RUN != 1 ]]; then need az; fi

# https://contoso.sharepoint.com/sites/records -> contoso.sharepoint.com:/sites/records
SITE_REF=${SITE#https://}
if [[ $SITE_REF != *:/* ]]; then SITE_REF="${SITE_REF%%/*}:/${SITE_REF#*/}"; fi
SITE_REF=${SITE_REF%/}

SITE_ID=$(capture "<site-id>" az rest --method get --url "$GRAPH/v1.0/sites/$SITE_REF?\$select=id" --query id -o tsv)
[[ -n $SITE_ID ]] || die "no site $SITE_REF answered; check --site"

# The app's grant on the site, if it has one, and its roles (read one by one: a listing may leave them out).
PERMISSION_ID=$(capture "" az rest --method get --url "$GRAPH/v1.0/sites/$SITE_ID/permissions" --query \
    "value[?grantedToIdentitiesV2[?application.id=='$CLIENT_ID'] || grantedToIdentities[?application.id=='$CLIENT_ID']].id | [0]" \
    -o tsv)
ROLES=""
if [[ -n $PERMISSION_ID ]]; then
    ROLES=$(capture "" az rest --method get --url "$GRAPH/v1.0/sites/$SITE_ID/permissions/$PERMISSION_ID" \
        --query "join(',', roles)" -o tsv)
fi

if [[ -z $PERMISSION_ID ]]; then
    run az rest --method post --url "$GRAPH/v1.0/sites/$SITE_ID/permissions" --body \
        "{\"roles\": [\"$ROLE\"], \"grantedToIdentities\": [{\"application\": {\"id\": \"$CLIENT_ID\", \"displayName\": \"$NAME\"}}]}"
    say "# grant: $ROLE on $SITE_REF to the app $CLIENT_ID"
elif [[ $ROLES == "$ROLE" ]]; then
    say "# unchanged: the app $CLIENT_ID already has $ROLE on $SITE_REF (permission $PERMISSION_ID)"
else
    run az rest --method patch --url "$GRAPH/v1.0/sites/$SITE_ID/permissions/$PERMISSION_ID" \
        --body "{\"roles\": [\"$ROLE\"]}"
    say "# change: the app $CLIENT_ID from ${ROLES:-no role} to $ROLE on $SITE_REF"
fi
say "# then: teamsretention check (it reads the lists with their columns)"
