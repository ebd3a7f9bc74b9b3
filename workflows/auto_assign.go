package workflows

import (
	"go.temporal.io/sdk/workflow"

	"sportello/activities"
	"sportello/internal/contract"
)

// RoleSystem is the actor role of the platform itself (automatic
// assignment, delegation while someone is out of office).
const RoleSystem = "system"

// systemActor acts for the platform; the timeline shows it as "system".
var systemActor = Actor{Role: RoleSystem}

// assignLeastLoaded asks for the least loaded candidate of the task just
// opened and gives it to them through the assign path. Nobody available, or
// someone faster who claimed it meanwhile: the task stays as it is.
func (s *foodVoucher) assignLeastLoaded(ctx, mctx workflow.Context, taskID string) error {
	in := activities.PickAssigneeInput{TaskID: taskID, CaseID: s.in.CaseID, At: workflow.Now(ctx)}
	if s.task != nil && s.task.Kind == TaskSecondApproval && s.firstApprover != nil {
		in.ExcludeUserID = s.firstApprover.UserID
	}
	var pick activities.PickAssigneeResult
	if err := s.mainLine(mctx, acts.PickAssignee, in).Get(ctx, &pick); err != nil {
		return err
	}
	if pick.UserID == 0 || s.task == nil || s.task.ID != taskID || s.task.ClaimedByID != 0 || s.deciding || s.decision != nil {
		return nil
	}
	_, err := s.assign(ctx, AssignInput{TaskID: taskID, Actor: systemActor,
		Assignee: Actor{UserID: pick.UserID, Username: pick.Username, Role: pick.Role}, Reason: contract.AutoAssignReason})
	if err != nil {
		// The write failed after its retries: the task stays in the queue.
		workflow.GetLogger(ctx).Warn("automatic assignment failed", "task", taskID, "error", err)
	}
	return nil
}
