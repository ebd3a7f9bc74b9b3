package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"sportello/activities"
	"sportello/workflows"
)

// caseAssigner gives tasks to people through the case workflows'
// assign-task update, as the system (for the delegation workflow).
type caseAssigner struct{ c client.Client }

// refusals are the case's answers that a retry would not change.
var refusals = []string{workflows.ErrTypeTaskNotOpen, workflows.ErrTypeAlreadyClaimed, workflows.ErrTypeInvalidDecision,
	workflows.ErrTypeForbidden, workflows.ErrTypeNotClaimed}

func (a caseAssigner) Assign(ctx context.Context, in activities.CaseAssignment) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h, err := a.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     in.UpdateID,
		WorkflowID:   workflows.CaseWorkflowID(in.CaseID),
		UpdateName:   workflows.UpdateAssign,
		Args:         []any{workflows.AssignInput{TaskID: in.TaskID, Actor: workflows.Actor{Role: workflows.RoleSystem}, Assignee: workflows.Actor{UserID: in.Assignee.UserID, Username: in.Assignee.Username, Role: in.Role}, Reason: in.Reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	if errors.As(err, &appErr) && slices.Contains(refusals, appErr.Type()) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %v", activities.ErrAssignRefused, err)
	}
	return err
}
