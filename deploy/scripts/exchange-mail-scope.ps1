<#
.SYNOPSIS
Mail.Send for the sender mailbox only: Exchange Online RBAC for Applications, as `teamsretention check` prints
in its fix for Mail.Send.

.DESCRIPTION
Gives the app the role "Application Mail.Send" scoped to one mailbox (notifications.sender) instead of the
tenant-wide Microsoft Graph permission Mail.Send. Run it in Exchange Online PowerShell as an Exchange
administrator (Install-Module ExchangeOnlineManagement; it connects with Connect-ExchangeOnline when no
session is open). Running it again changes nothing that is already right: the service principal, the
management scope and the role assignment are each created only when missing, and a scope whose filter names
another mailbox is set to this one.

The app must NOT also hold Mail.Send as an Entra application permission: that grant is tenant-wide and wins
over the scope (entra-app.sh grants it only with --mail-send-tenant-wide). Permission changes can take up to
an hour to apply in Exchange Online; then `teamsretention check --send-test-mail ADDRESS` proves it (a
permission granted this way is not in the token's roles claim).

.EXAMPLE
./exchange-mail-scope.ps1 -AppId <client-id> -ServicePrincipalObjectId <enterprise-app-object-id> -Sender recordings-noreply@contoso.com -WhatIf

.PARAMETER AppId
The app registration's application (client) id.
.PARAMETER ServicePrincipalObjectId
The object id of the app's enterprise application (service principal), not of the app registration:
`az ad sp show --id <client-id> --query id -o tsv` (entra-app.sh prints it).
.PARAMETER Sender
notifications.sender: the one mailbox the app may send as.
.PARAMETER ScopeName
Name of the management scope (default teamsretention-sender).
.PARAMETER DisplayName
Display name of the service principal in Exchange (default teamsretention).
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param(
    [Parameter(Mandatory = $true)][string]$AppId,
    [Parameter(Mandatory = $true)][string]$ServicePrincipalObjectId,
    [Parameter(Mandatory = $true)][string]$Sender,
    [string]$ScopeName = 'teamsretention-sender',
    [string]$DisplayName = 'teamsretention'
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if (-not (Get-Command Get-ManagementScope -ErrorAction SilentlyContinue)) {
    Connect-ExchangeOnline -ShowBanner:$false
}

$filter = "PrimarySmtpAddress -eq '$Sender'"
$role = 'Application Mail.Send'

# 1. The app as a service principal Exchange knows.
$sp = Get-ServicePrincipal -Identity $AppId -ErrorAction SilentlyContinue
if ($null -eq $sp) {
    if ($PSCmdlet.ShouldProcess($AppId, 'New-ServicePrincipal')) {
        New-ServicePrincipal -AppId $AppId -ObjectId $ServicePrincipalObjectId -DisplayName $DisplayName | Out-Null
    }
    Write-Output "service principal: created for $AppId"
} else {
    Write-Output "service principal: exists for $AppId"
}

# 2. A management scope holding the sender mailbox only.
$scope = Get-ManagementScope -Identity $ScopeName -ErrorAction SilentlyContinue
if ($null -eq $scope) {
    if ($PSCmdlet.ShouldProcess($ScopeName, "New-ManagementScope $filter")) {
        New-ManagementScope -Name $ScopeName -RecipientRestrictionFilter $filter | Out-Null
    }
    Write-Output "management scope: $ScopeName created ($filter)"
} elseif ($scope.RecipientFilter -ne $filter) {
    if ($PSCmdlet.ShouldProcess($ScopeName, "Set-ManagementScope $filter")) {
        Set-ManagementScope -Identity $ScopeName -RecipientRestrictionFilter $filter
    }
    Write-Output "management scope: $ScopeName was '$($scope.RecipientFilter)', now $filter"
} else {
    Write-Output "management scope: $ScopeName exists ($filter)"
}

# 3. The role, for the app, in that scope only.
$assignment = Get-ManagementRoleAssignment -Role $role -RoleAssignee $AppId -ErrorAction SilentlyContinue |
    Where-Object { $_.CustomResourceScope -eq $ScopeName }
if ($null -eq $assignment) {
    if ($PSCmdlet.ShouldProcess($AppId, "New-ManagementRoleAssignment -Role '$role' -CustomResourceScope $ScopeName")) {
        New-ManagementRoleAssignment -App $AppId -Role $role -CustomResourceScope $ScopeName | Out-Null
    }
    Write-Output "role assignment: $role for $AppId in $ScopeName created"
} else {
    Write-Output "role assignment: $role for $AppId in $ScopeName exists"
}

# 4. What Exchange says now (may lag behind by up to an hour).
if (-not $WhatIfPreference) {
    Test-ServicePrincipalAuthorization -Identity $AppId -Resource $Sender |
        Format-Table RoleName, GrantedPermissions, AllowedResourceScope, InScope -AutoSize
}
Write-Output "then: teamsretention check --send-test-mail ADDRESS"
