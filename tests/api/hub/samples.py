"""The sample requests of the CAPIG documents, verbatim (query text, then variables)."""

ADD_USER_WITH_ROLE = """mutation useAddUserAccountMutation(
$addUserWithRoleInput: AddUserWithRoleInput!
) {
userMutations {
addUserWithRole(input: $addUserWithRoleInput) {
userAlreadyExist
invitationLink
user {
id
email
status
roles {
name
displayName
}
}
}
}
}"""

ADD_USER_WITH_ROLE_SCHEMA = """mutation useAddUserAccountMutation(
$addUserWithRoleInput: AddUserWithRoleInput!
) {
userMutations {
addUserWithRole(input: $addUserWithRoleInput) {
userAlreadyExist
invitationLink
user {
id
email
status
roles {
name
displayName
}
isSelf
canBeDeleted
defaultTenantId
}
}
}
}"""

CHANGE_ROLE_FOR_USER = """mutation UserAccessChangeMutation(
$changeRoleForUserInput: ChangeRoleForUserInput!
) {
userMutations {
changeRoleForUser(input: $changeRoleForUserInput) {
user {
id
email
roles {
name
displayName
}
}
}
}
}"""

SEND_INVITATION = """mutation ActivateElementMutation(
$sendInvitationInput: SendInvitationInput!
) {
userMutations {
sendInvitation(input: $sendInvitationInput)
}
}"""

CREATE_TENANT = """mutation CreateTenantMutation(
$input: CreateTenantInput!
) {
tenantMutations {
createTenant(input: $input) {
tenant {
id
name
status
canPartnerManage
}
}
}
}"""

# The "Schema" block of the account-management page, slips included (`durationInHours,`).
CREATE_TENANT_SCHEMA = """mutation CreateTenantMutation(
$input: CreateTenantInput!
) {
tenantMutations {
createTenant(input: $input) {
tenant {
id
name
status
canPartnerManage
users {
id
email
roles {
name
displayName
}
tenants {
id
name
status
canPartnerManage
availableRoles {
name
displayName
}
}
isSelf
canBeDeleted
defaultTenantId
}
availableRoles {
name
displayName
}
tenantUsage {
totalActivePixels
totalInactivePixels
totalPixels
tenantUsageByTraffic {
totalEventsReceived
totalPixelsWithTraffic
publishError
durationInHours,
lastUpdatedAt
}
}
canEditTenantSettingsInUI
canViewTenantInUI
canEditTenantUsersInUI
}
}
}
}"""

TENANT = """query TenantAccountUsersViewQuery(
$tenantId: String!
) {
tenant(tenantId: $tenantId) {
id
name
users {
id
email
roles {
name
displayName
}
}
}
}"""

# The query's "Schema" block; it selects canEditTenantSettingsInUI twice, as printed.
TENANT_SCHEMA = """query TenantAccountUsersViewQuery(
$tenantId: String!
) {
tenant(tenantId: $tenantId) {
id
name
status
canPartnerManage
users {
id
email
roles {
name
displayName
}
tenants {
id
name
status
canPartnerManage
availableRoles {
name
displayName
}
}
isSelf
canBeDeleted
defaultTenantId
}
availableRoles {
name
displayName
}
tenantUsage {
totalActivePixels
totalInactivePixels
totalPixels
tenantUsageByTraffic {
totalEventsReceived
totalPixelsWithTraffic
publishError
durationInHours,
lastUpdatedAt
}
}
canEditTenantSettingsInUI
canViewTenantInUI
canEditTenantSettingsInUI
}
}"""

UPDATE_TENANT = """mutation TenantEditNameModalMutation(
$input: UpdateTenantInput!
) {
tenantMutations {
updateTenant(input: $input) {
tenant {
id
name
status
canPartnerManage
}
}
}
}"""

DELETE_TENANT = """mutation DeleteTenant($tenantId: String!) {
tenantMutations {
deleteTenant(tenantId: $tenantId)
}
}"""

TENANT_USAGE_SCHEMA = """query TenantUsageQuery(
$tenantId: String!
) {
tenantUsage(tenantId: $tenantId) {
totalActivePipeline
totalInactivePixels
totalPixels
totalPipelines
tenantUsageByTraffic {
totalEventsReceived
totalPixelsWithTraffic
}
}
}"""

# The usage sample writes its tenant id into the query text; tests put theirs in its place.
TENANT_USAGE = """query {
tenantUsage(tenantId: "IaoreXfj"){
totalActivePixels
totalInactivePixels
totalPixels
}
}"""
