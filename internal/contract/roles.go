// Package contract holds what crosses the Temporal boundary and the layers:
// workflow and activity names, their inputs and results, ids, statuses,
// typed roles and error codes. It imports nothing of Sportello.
package contract

// Role is what a signed-in account acts as.
type Role string

// The roles of the platform (users.role in the database).
const (
	RoleCitizen     Role = "citizen"
	RoleOperator    Role = "operator"
	RoleSupervisor  Role = "supervisor"
	RoleMerchant    Role = "merchant"
	RoleCooperative Role = "cooperative"
	// RoleCommerceManager is the Commerce District's manager: runs the
	// district's local campaigns (internal/app/campaigns).
	RoleCommerceManager Role = "commerce_manager"
	// RoleWelfareManager manages a company's welfare plan (issue 15).
	RoleWelfareManager Role = "welfare_manager"
)
