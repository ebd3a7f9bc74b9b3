package activities

import (
	"context"
	"time"

	"sportello/internal/store"
)

// PickAssigneeInput asks who should get a task that has just opened.
type PickAssigneeInput struct {
	TaskID        string    `json:"TaskID"`
	CaseID        string    `json:"CaseID"`
	ExcludeUserID int64     `json:"ExcludeUserID"` // the first approver, for a second approval
	At            time.Time `json:"At"`
}

// PickAssigneeResult is the least loaded candidate (UserID 0: nobody, the
// task stays in the queue).
type PickAssigneeResult struct {
	UserID   int64  `json:"UserID"`
	Username string `json:"Username"`
	Role     string `json:"Role"`
}

// PickAssignee chooses the least loaded member of the task's candidate
// group when automatic assignment is on for its fund or team (see
// store.PickLeastLoaded). It only reads.
func (a *Cases) PickAssignee(ctx context.Context, in PickAssigneeInput) (PickAssigneeResult, error) {
	c, ok, err := a.Store.PickLeastLoaded(ctx, store.PickInput{TaskID: in.TaskID, ExcludeUserID: in.ExcludeUserID, At: in.At})
	if err != nil || !ok {
		return PickAssigneeResult{}, err
	}
	return PickAssigneeResult{UserID: c.UserID, Username: c.Username, Role: c.Role}, nil
}
