#!/usr/bin/env bash
# The Entra app registration teamsretention signs in as, with exactly the Microsoft Graph application
# permissions the enabled features need (the table `teamsretention check` compares the token with), admin
# consent, and a certificate credential whose private key never leaves this machine.
#
# Run it as an administrator who may consent to application permissions (Privileged Role Administrator or
# Global Administrator), signed in with `az login --allow-no-subscriptions`. Running it again brings the app
# up to date and changes nothing that is already right: the app is found by its name, its requested
# permissions are set to exactly the list below (others are removed from the registration), and a
# certificate already uploaded is not uploaded twice.
#
#   deploy/scripts/entra-app.sh --dry-run --enforce --sender recordings-noreply@contoso.com \
#       --lists-site https://contoso.sharepoint.com/sites/records
#
# Options mirror the configuration (they decide the permissions, as in `teamsretention check`):
#   --enforce              policy.enforce = true: Files.ReadWrite.All (deletes), else Files.Read.All (plan only)
#   --no-channel-sites     scope.channel_sites = false: no GroupMember.Read.All / Channel.ReadBasic.All for it
#   --include-groups       scope.include_groups is set: GroupMember.Read.All
#   --sender ADDRESS       notifications.sender: MailboxSettings.Read here; Mail.Send is scoped to ADDRESS
#                          with Exchange RBAC for Applications (exchange-mail-scope.ps1), not granted here
#   --mail-send-tenant-wide  grant Mail.Send in Entra instead (any mailbox: not least privilege)
#   --lists-site URL       lists.site: Sites.Selected, then grant-site.sh grants the app that one site
# and:
#   --name NAME            display name of the app registration (default: teamsretention)
#   --certificate PATH     where the new private key and certificate go, one PEM file (mode 0600; default
#                          ./teamsretention-graph.pem); an existing file there is reused, not replaced
#   --certificate-days N   validity of a new certificate (default 365)
#   --no-certificate       create no credential (managed identity, workload identity)
#   --remove-other-grants  also revoke Graph application permissions consented earlier that are not listed
#   --graph URL            Microsoft Graph for a national cloud (default https://graph.microsoft.com)
#   --dry-run              print the commands, run none
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

GRAPH_APP_ID=00000003-0000-0000-c000-000000000000  # Microsoft Graph, the same in every tenant
# Microsoft Graph application permissions (app roles) by name. The ids are the same in every tenant; the
# script also reads them from the tenant's Microsoft Graph service principal and stops if one differs.
declare -A ROLE_ID=(
    [User.Read.All]=df021288-bdef-4463-88db-98f22de89214
    [GroupMember.Read.All]=98830695-27a2-44f7-8c18-0c3ebc9698f6
    [Channel.ReadBasic.All]=59a6b24b-4225-4393-8165-ebaec5f55d7a
    [Files.Read.All]=01d4889c-1287-42c6-ac1f-5d1e02578ef6
    [Files.ReadWrite.All]=75359482-378d-4052-8f01-80520e7db3cd
    [MailboxSettings.Read]=40f97065-369a-49f4-947c-6a255697ae91
    [Mail.Send]=b633e1c5-b582-4048-a93e-9f11b44c7e96
    [Sites.Selected]=883ea226-0bf2-4a8f-9f9d-92c9162a727d
)

NAME=teamsretention ENFORCE=0 CHANNEL_SITES=1 INCLUDE_GROUPS=0 SENDER="" MAIL_TENANT_WIDE=0 LISTS_SITE=""
CERT=./teamsretention-graph.pem CERT_DAYS=365 WITH_CERT=1 REMOVE_OTHERS=0 GRAPH=https://graph.microsoft.com

while (($#)); do
    case $1 in
        --enforce) ENFORCE=1 ;;
        --no-channel-sites) CHANNEL_SITES=0 ;;
        --include-groups) INCLUDE_GROUPS=1 ;;
        --sender) SENDER=${2:?--sender needs the mailbox address}; shift ;;
        --mail-send-tenant-wide) MAIL_TENANT_WIDE=1 ;;
        --lists-site) LISTS_SITE=${2:?--lists-site needs the site URL}; shift ;;
        --name) NAME=${2:?--name needs a display name}; shift ;;
        --certificate) CERT=${2:?--certificate needs a path}; shift ;;
        --certificate-days) CERT_DAYS=${2:?--certificate-days needs a number}; shift ;;
        --no-certificate) WITH_CERT=0 ;;
        --remove-other-grants) REMOVE_OTHERS=1 ;;
        --graph) GRAPH=${2:?--graph needs a URL}; shift ;;
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
if ((MAIL_TENANT_WIDE)) && [[ -z $SENDER ]]; then die "--mail-send-tenant-wide needs --sender ADDRESS"; fi

# What the enabled features need, least privilege first: workflows/check_permissions.py's table, row by row.
PERMISSIONS=()
add() { local p; for p in "${PERMISSIONS[@]}"; do [[ $p == "$1" ]] && return 0; done; PERMISSIONS+=("$1"); }
add User.Read.All                                     # list users in scope, approvers' groups
if ((CHANNEL_SITES)); then add GroupMember.Read.All; add Channel.ReadBasic.All; fi  # teams, owners, channels
if ((INCLUDE_GROUPS)); then add GroupMember.Read.All; fi                         # scope.include_groups
if ((ENFORCE)); then add Files.ReadWrite.All; else add Files.Read.All; fi        # drives, labels (, delete)
if [[ -n $SENDER ]]; then
    if ((MAIL_TENANT_WIDE)); then add Mail.Send; fi  # else: Exchange RBAC for Applications, the sender only
    add MailboxSettings.Read                          # an organizer with a mailbox from one without
fi
if [[ -n $LISTS_SITE ]]; then add Sites.Selected; fi  # the lists' site, granted by grant-site.sh

if [[ $DRY_RUN != 1 ]]; then need az; fi
if ((WITH_CERT)) && [[ $DRY_RUN != 1 ]]; then need openssl; fi

say "# app registration $NAME: Microsoft Graph application permissions: ${PERMISSIONS[*]}"
if [[ -n $SENDER ]] && ((!MAIL_TENANT_WIDE)); then
    say "# Mail.Send: not granted in Entra; scoped to $SENDER with Exchange RBAC for Applications (below)"
fi

TENANT_ID=$(capture "<tenant-id>" az account show --query tenantId -o tsv)

# The app registration, found by its display name.
APP_ID=$(capture "" az ad app list --display-name "$NAME" --query "[].appId" -o tsv)
if [[ $APP_ID == *$'\n'* ]]; then die "several app registrations are called $NAME; give --name a unique one"; fi
if [[ -z $APP_ID ]]; then
    APP_ID=$(capture "<client-id>" az ad app create --display-name "$NAME" --sign-in-audience AzureADMyOrg \
        --query appId -o tsv)
fi
SP_ID=$(capture "" az ad sp list --filter "appId eq '$APP_ID'" --query "[0].id" -o tsv)
if [[ -z $SP_ID ]]; then
    SP_ID=$(capture "<enterprise-app-object-id>" az ad sp create --id "$APP_ID" --query id -o tsv)
fi

# The permission ids as this tenant's Microsoft Graph service principal has them.
KNOWN=""
for p in "${!ROLE_ID[@]}"; do KNOWN+="$p"$'\t'"${ROLE_ID[$p]}"$'\n'; done
GRAPH_SP_ID=$(capture "<graph-service-principal-object-id>" az ad sp show --id "$GRAPH_APP_ID" --query id -o tsv)
TENANT_ROLES=$(capture "$KNOWN" az ad sp show --id "$GRAPH_APP_ID" \
    --query "appRoles[?contains(allowedMemberTypes, 'Application')].[value, id]" -o tsv)
ACCESS="" WANTED_IDS=" "
for p in "${PERMISSIONS[@]}"; do
    id=$(awk -F'\t' -v p="$p" '$1 == p { print $2 }' <<<"$TENANT_ROLES")
    [[ -n $id ]] || die "Microsoft Graph in this tenant has no application permission $p"
    [[ $id == "${ROLE_ID[$p]}" ]] || die "Microsoft Graph names $p $id here, not ${ROLE_ID[$p]}: stopped, nothing granted"
    ACCESS+="${ACCESS:+,}{\"id\":\"$id\",\"type\":\"Role\"}"
    WANTED_IDS+="$id "
done
run az ad app update --id "$APP_ID" \
    --required-resource-accesses "[{\"resourceAppId\":\"$GRAPH_APP_ID\",\"resourceAccess\":[$ACCESS]}]"
run az ad app permission admin-consent --id "$APP_ID"

# Graph application permissions consented earlier and no longer listed: reported, revoked on request.
GRANTED=$(capture "" az rest --method get \
    --url "$GRAPH/v1.0/servicePrincipals/$SP_ID/appRoleAssignments" \
    --query "value[?resourceId=='$GRAPH_SP_ID'].[id, appRoleId]" -o tsv)
while IFS=$'\t' read -r assignment role; do
    [[ -n $assignment && $WANTED_IDS != *" $role "* ]] || continue
    name=$(awk -F'\t' -v id="$role" '$2 == id { print $1 }' <<<"$TENANT_ROLES")
    if ((REMOVE_OTHERS)); then
        run az rest --method delete --url "$GRAPH/v1.0/servicePrincipals/$SP_ID/appRoleAssignments/$assignment"
    else
        say "# not needed and still granted: ${name:-$role}; revoke: rerun with --remove-other-grants, or"
        show az rest --method delete --url "$GRAPH/v1.0/servicePrincipals/$SP_ID/appRoleAssignments/$assignment"
    fi
done <<<"$GRANTED"

# A certificate credential: the key is made here and stays here; Entra gets the public certificate only.
if ((WITH_CERT)); then
    if [[ -e $CERT ]]; then
        grep -q "PRIVATE KEY" "$CERT" || die "$CERT exists and holds no private key; give --certificate another path"
        say "# reusing the certificate in $CERT"
    else
        WORK=$(mktemp -d)
        trap 'rm -rf "$WORK"' EXIT
        run openssl req -x509 -newkey rsa:3072 -sha256 -days "$CERT_DAYS" -nodes -subj "/CN=$NAME" \
            -keyout "$WORK/key.pem" -out "$WORK/cert.pem"
        say "+ (umask 077; cat $WORK/key.pem $WORK/cert.pem >$CERT)"
        if [[ $DRY_RUN != 1 ]]; then (umask 077; cat "$WORK/key.pem" "$WORK/cert.pem" >"$CERT"); fi
    fi
    PUBLIC=${CERT%.pem}.public.pem
    run openssl x509 -in "$CERT" -out "$PUBLIC"
    THUMB=$(capture "<thumbprint>" openssl x509 -in "$CERT" -noout -fingerprint -sha1)
    THUMB=${THUMB#*=}; THUMB=${THUMB//:/}
    UPLOADED=$(capture "" az ad app credential list --id "$APP_ID" --cert --query "[].customKeyIdentifier" -o tsv)
    if grep -qix "$THUMB" <<<"$UPLOADED"; then
        say "# certificate $THUMB is already a credential of the app"
    else
        run az ad app credential reset --id "$APP_ID" --cert "@$PUBLIC" --append
    fi
fi

say ""
say "# tenant.tenant_id = \"$TENANT_ID\""
say "# tenant.client_id = \"$APP_ID\""
if ((WITH_CERT)); then
    say "# graph.auth = \"certificate\", graph.certificate_path = the file $CERT (owner only: chmod 0400)"
fi
if [[ -n $LISTS_SITE ]]; then
    say "# next, Sites.Selected on the lists' site:"
    say "#   deploy/scripts/grant-site.sh --client-id $APP_ID --site $LISTS_SITE"
fi
if [[ -n $SENDER ]] && ((!MAIL_TENANT_WIDE)); then
    say "# next, Mail.Send for $SENDER only (Exchange Online PowerShell, as an Exchange administrator):"
    say "#   ./exchange-mail-scope.ps1 -AppId $APP_ID -ServicePrincipalObjectId $SP_ID -Sender $SENDER"
fi
say "# then: teamsretention check${SENDER:+ --send-test-mail ADDRESS}"
